package apply_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
)

// Order shows the batches an apply goes through, without a cluster: stages by kind,
// then waves, then dependencies.
func ExampleOrder() {
	manifests := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
  annotations: {argocd.argoproj.io/sync-wave: "-1"}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: shop
  annotations: {gitopskit.io/depends-on: apps/Deployment/shop/web}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`
	ms, err := object.Decode(strings.NewReader(manifests), "app.yaml")
	if err != nil {
		panic(err)
	}
	batches, err := apply.Order(object.Objects(ms))
	if err != nil {
		panic(err)
	}
	for i, b := range batches {
		for _, o := range b.Objects {
			fmt.Printf("%d %-17s wave %2d  %s\n", i, b.Stage, b.Wave, object.IDOf(o))
		}
	}
	// Output:
	// 0 namespaces        wave  0  /Namespace//shop
	// 1 crds              wave  0  apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com
	// 2 namespaced-config wave  0  /ConfigMap/shop/settings
	// 3 workloads         wave -1  batch/Job/shop/migrate
	// 4 workloads         wave  0  apps/Deployment/shop/web
	// 5 workloads         wave  0  example.com/Widget/shop/gear
}

// Apply a set with an ApplySet inventory, then apply it again without one of its
// objects: the second apply prunes it.
func ExampleManager_Apply() {
	ctx := context.Background()
	if err := cluster.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	m, err := apply.NewForConfig(cluster.RESTConfig(), apply.Options{FieldManager: "example"})
	if err != nil {
		panic(err)
	}
	inv, err := m.ApplySet(object.ID{Kind: "Secret", Namespace: "example-apply", Name: "inventory"}, apply.ApplySetOptions{})
	if err != nil {
		panic(err)
	}
	set := func(manifests string) []*unstructured.Unstructured {
		ms, err := object.Decode(strings.NewReader(manifests), "app.yaml")
		if err != nil {
			panic(err)
		}
		return object.Objects(ms)
	}
	ns := "apiVersion: v1\nkind: Namespace\nmetadata: {name: example-apply}\n"
	cm := func(name string) string {
		return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: example-apply}\n"
	}
	opts := apply.ApplyOptions{Inventory: inv, Prune: true, CreateNamespace: true}
	for _, manifests := range []string{ns + cm("a") + cm("b"), ns + cm("a")} {
		res, err := m.Apply(ctx, set(manifests), opts)
		if err != nil {
			panic(err)
		}
		// Events come as each request returns; print them sorted by object.
		events := slices.SortedFunc(slices.Values(res.Events), func(a, b apply.Event) int { return object.Compare(a.ID, b.ID) })
		for _, ev := range events {
			fmt.Println(ev.Action, ev.ID)
		}
	}
	// Output:
	// created /ConfigMap/example-apply/a
	// created /ConfigMap/example-apply/b
	// created /Namespace//example-apply
	// unchanged /ConfigMap/example-apply/a
	// pruned /ConfigMap/example-apply/b
	// unchanged /Namespace//example-apply
}

// ParseDirectives reads the annotations Argo CD and Flux users already carry.
func ExampleParseDirectives() {
	ms, err := object.Decode(strings.NewReader(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  annotations:
    argocd.argoproj.io/sync-options: Prune=false, Replace=true
    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent
`), "app.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := apply.ParseDirectives(ms[0].Object)
	if err != nil {
		fmt.Println(err) // an unknown option or value, naming the object
		return
	}
	fmt.Println("kept on prune:", d.KeepOnPrune, "replaced:", d.Replace, "mode:", d.SSA)
	fmt.Println(d.Skip(ms[0].Object)) // as if it existed
	// Output:
	// kept on prune: true replaced: true mode: IfNotPresent
	// not applied: it exists and is annotated kustomize.toolkit.fluxcd.io/ssa=IfNotPresent
}
