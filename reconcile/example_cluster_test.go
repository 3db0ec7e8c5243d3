package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
)

// A reconciler for a real cluster: the first pass applies the directory, the
// second finds the cluster in sync and writes nothing.
func ExampleNewForConfig() {
	ctx := context.Background()
	if err := cluster.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: example-reconcile}\ndata: {color: blue}\n"
	if err := os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte(manifest), 0o600); err != nil {
		panic(err)
	}

	r, err := reconcile.NewForConfig(cluster.RESTConfig(),
		reconcile.Stages{Source: source.Local{Dir: dir}},
		reconcile.Options{Cluster: reconcile.ClusterOptions{
			FieldManager: "example",
			Inventory:    object.ID{Kind: "Secret", Namespace: "example-reconcile", Name: "inventory"},
		}, Prune: true, Wait: true, CreateNamespace: true})
	if err != nil {
		panic(err)
	}
	for range 2 {
		res, err := r.Reconcile(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println("applied", res.Applied(), "wrote", res.Wrote, "in sync", res.InSync())
	}
	// Output:
	// applied [/Namespace//example-reconcile /ConfigMap/example-reconcile/settings] wrote true in sync false
	// applied [] wrote false in sync true
}
