package reconcile_test

import (
	"context"
	"fmt"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/reconcile"
)

// healthyPass stands for a set's Reconciler: its pass succeeds and its objects
// are healthy.
type healthyPass struct{ name string }

func (p healthyPass) Reconcile(context.Context) (*reconcile.Result, error) {
	fmt.Println("reconciling", p.name)
	return &reconcile.Result{Health: health.Status{Code: health.Healthy}}, nil
}

// Sets that depend on each other, as Flux's Kustomizations with dependsOn: the
// CRDs first, then the infrastructure that uses them, then the apps.
func ExampleGroup() {
	g, err := reconcile.NewGroup([]reconcile.Set{
		{Name: "apps", Runner: healthyPass{"apps"}, DependsOn: []string{"infrastructure"}},
		{Name: "infrastructure", Runner: healthyPass{"infrastructure"}, DependsOn: []string{"crds"}},
		{Name: "crds", Runner: healthyPass{"crds"}},
	}, reconcile.GroupOptions{})
	if err != nil {
		panic(err)
	}
	results, err := g.Reconcile(context.Background())
	for _, r := range results {
		fmt.Println(r.Name, "ready:", r.Ready())
	}
	fmt.Println("error:", err)
	// Output:
	// reconciling crds
	// reconciling infrastructure
	// reconciling apps
	// apps ready: true
	// infrastructure ready: true
	// crds ready: true
	// error: <nil>
}
