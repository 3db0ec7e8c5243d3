package snippets

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

func Example_applyOrder() {
	// snippet: apply-order
	manifests := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
  annotations: {argocd.argoproj.io/sync-wave: "-1"}   # or gitopskit.io/wave
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: shop
  annotations: {config.kubernetes.io/depends-on: apps/namespaces/shop/Deployment/web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`
	ms, err := object.Decode(strings.NewReader(manifests), "app.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	batches, err := apply.Order(object.Objects(ms)) // no cluster needed
	if err != nil {
		fmt.Println(err) // a bad annotation, a missing dependency or a cycle
		return
	}
	for i, b := range batches {
		for _, u := range b.Objects {
			fmt.Printf("%d %-17s wave %2d %s\n", i, b.Stage, b.Wave, object.IDOf(u))
		}
	}
	// end snippet

	// Output:
	// 0 namespaces        wave  0 /Namespace//shop
	// 1 namespaced-config wave  0 /ConfigMap/shop/settings
	// 2 workloads         wave -1 batch/Job/shop/migrate
	// 3 workloads         wave  0 apps/Deployment/shop/web
	// 4 workloads         wave  0 example.com/Widget/shop/gear
}

// snippet: apply-set
// Deploy applies objs to the cluster of cfg as the set named name in namespace ns,
// prunes the members that left it, and waits between waves until each is healthy.
func Deploy(ctx context.Context, cfg *rest.Config, ns, name string, objs []*unstructured.Unstructured) (*apply.Result, error) {
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "my-tool"})
	if err != nil {
		return nil, err
	}
	// The ApplySet's parent; `kubectl apply --prune --applyset` sees the same set.
	inventory, err := m.ApplySet(object.ID{Kind: "Secret", Namespace: ns, Name: name}, apply.ApplySetOptions{})
	if err != nil {
		return nil, err
	}
	waiter, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
	if err != nil {
		return nil, err
	}
	return m.Apply(ctx, objs, apply.ApplyOptions{
		Inventory: inventory,
		Prune:     true, // never after a failure, never objects annotated prune: disabled
		WaveGate:  waiter.Gate(health.WaitOptions{Timeout: 5 * time.Minute, FailFast: true}),
		OnEvent: func(e apply.Event) {
			fmt.Printf("%s %s %s\n", e.ID, e.Action, e.Reason) // created, configured, unchanged, pruned, ...
		},
	})
}

// end snippet

func TestDeploy(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	cm := func(name, ann string) *unstructured.Unstructured {
		return mustYAML("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + ", annotations: {" + ann + "}}\ndata: {a: b}\n")
	}
	res, err := Deploy(ctx, cfg, ns, "app", []*unstructured.Unstructured{cm("a", ""), cm("b", ""), cm("kept", "gitopskit.io/prune: disabled")})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Count(apply.Created); n != 3 {
		t.Errorf("%d created, want 3: %+v", n, res.Events)
	}
	res, err = Deploy(ctx, cfg, ns, "app", []*unstructured.Unstructured{cm("a", "")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Events {
		got = append(got, e.ID.Name+" "+string(e.Action))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "a unchanged,b pruned,kept skipped" {
		t.Errorf("second apply: %v, want a unchanged, b pruned and kept skipped", got)
	}
	if _, err := Deploy(ctx, cfg, ns, "app", nil); err == nil {
		t.Error("an empty set was applied with pruning")
	}
}
