package reconcile_test

import (
	"context"
	"fmt"

	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/reconcile/fake"
)

// A reconciler over in-memory stages: the first pass creates the objects, a pass over
// the same revision changes nothing, a new revision updates one object and prunes
// the one whose file was removed.
func Example() {
	src := &fake.Source{}
	cluster := fake.NewCluster()
	r, err := reconcile.New(
		reconcile.Stages{Source: src, Differ: cluster, Applier: cluster, Health: cluster},
		reconcile.Options{Mode: reconcile.SelfHeal, Prune: true},
	)
	if err != nil {
		panic(err)
	}
	cm := func(name, value string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: demo}\ndata: {v: \"" + value + "\"}\n"
	}
	pass := func() {
		res, err := r.Reconcile(context.Background())
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%s: rendered=%v drift=%d applied=%d pruned=%d health=%s\n",
			res.Revision, res.Rendered, len(res.Drift), len(res.Applied()), len(res.Pruned()), res.Health.Code)
		for _, c := range res.Plan.Changed() {
			fmt.Printf("  %-6s %s %v\n", c.Action, c.ID, c.Paths)
		}
	}

	src.Commit("main@sha1:1", map[string]string{"a.yaml": cm("a", "1"), "b.yaml": cm("b", "1")})
	pass()
	pass()
	src.Commit("main@sha1:2", map[string]string{"a.yaml": cm("a", "2")})
	pass()
	src.Commit("main@sha1:3", map[string]string{"a.yaml": "kind: [broken"})
	pass()
	// Output:
	// main@sha1:1: rendered=true drift=2 applied=2 pruned=0 health=Healthy
	//   Create /ConfigMap/demo/a []
	//   Create /ConfigMap/demo/b []
	// main@sha1:1: rendered=false drift=0 applied=0 pruned=0 health=Healthy
	// main@sha1:2: rendered=true drift=2 applied=1 pruned=1 health=Healthy
	//   Update /ConfigMap/demo/a [.data]
	//   Delete /ConfigMap/demo/b []
	// error: reconcile main@sha1:3: render: render .: a.yaml:1: invalid object: invalid YAML: did not find expected ',' or ']'
}
