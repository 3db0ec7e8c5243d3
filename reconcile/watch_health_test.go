package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
)

// With Live, a pass's wait for health follows the shared cache: the only LIST
// and WATCH of each resource are the cache's (a wait of its own added one of
// each), it still waits until the set is healthy, and a custom resource whose
// CRD has a status subresource is not Healthy before a status is written.
func TestWatchedWaitFollowsTheCache(t *testing.T) {
	ctx := context.Background()
	cfg, ns := cluster.Config(t), cluster.NewNamespace(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	dyn := dynamic.NewForConfigOrDie(cfg)
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	crd := &unstructured.Unstructured{}
	if err := crd.UnmarshalJSON([]byte(`{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": {"name": "widgets.` + group + `"},
		"spec": {"group": "` + group + `", "scope": "Namespaced", "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
			"versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
				"schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	widgets := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}).Namespace(ns)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := widgets.List(ctx, metav1.ListOptions{}); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the CRD is not served: %v", err)
		}
	}

	counted, counts := testtool.CountVerbs(cfg)
	c, _ := watchedCluster(t, counted, ns)
	dir := t.TempDir()
	testtool.WriteFiles(t, dir, map[string]string{
		"deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: " + ns + "}\ndata: {color: blue}\n",
		"deploy/w.yaml": "apiVersion: " + group + "/v1\nkind: Widget\nmetadata: {name: w, namespace: " + ns + "}\nspec: {size: 3}\n",
	})
	r, err := reconcile.New(reconcile.Stages{Source: source.Local{Dir: dir}, Differ: c, Applier: c, Health: c},
		reconcile.Options{Path: "deploy", Prune: true, Wait: true, HealthTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		res *reconcile.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := r.Reconcile(ctx)
		done <- outcome{res, err}
	}()
	var w *unstructured.Unstructured
	for deadline := time.Now().Add(30 * time.Second); w == nil; time.Sleep(50 * time.Millisecond) {
		w, _ = widgets.Get(ctx, "w", metav1.GetOptions{})
		if w == nil && time.Now().After(deadline) {
			t.Fatal("the pass did not create the Widget")
		}
	}
	select {
	case o := <-done:
		t.Fatalf("the pass ended before the Widget had a status: health %v, %v", o.res.Health, o.err)
	case <-time.After(time.Second):
	}
	if err := unstructured.SetNestedSlice(w.Object, []any{map[string]any{"type": "Ready", "status": "True", "message": "serving"}}, "status", "conditions"); err != nil {
		t.Fatal(err)
	}
	if _, err := widgets.UpdateStatus(ctx, w, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var o outcome
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the status was written, and the pass still waits")
	}
	if o.err != nil || o.res.Health.Code != health.Healthy {
		t.Fatalf("pass: health %v, %v", o.res.Health, o.err)
	}
	t.Logf("requests: %s", counts)
	for _, res := range []string{"configmaps", "widgets"} {
		// The cache's watch lists by streaming its first events (client-go's
		// watch-list); the apply compares with the cache's copies.
		if lists, watches := counts.Get("list "+res), counts.Get("watch "+res); lists != 0 || watches != 1 {
			t.Errorf("%s: %d LIST and %d WATCH, want the cache's one WATCH", res, lists, watches)
		}
	}
}
