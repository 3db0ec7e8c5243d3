package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

// The base revision is deployed with an ApplySet inventory; the head is then
// diffed against the cluster with both engines, which must agree.
func TestClusterDiff(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	r := testRepo(t)
	o := testOptions(t, r)

	// Deploy the base as a GitOps tool would.
	base, err := fetchRender(ctx, o, "main")
	if err != nil {
		t.Fatal(err)
	}
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: o.FieldManager})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := m.ApplySet(object.ID{Kind: "Secret", Namespace: ns, Name: "inventory"}, apply.ApplySetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	if err := (render.Transform{Namespace: ns, Mapper: mapper}).Apply(base.result); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, object.Objects(base.result.Manifests), apply.ApplyOptions{Inventory: inv}); err != nil {
		t.Fatal(err)
	}

	o.Base, o.restConfig = "", cfg
	o.Namespace, o.Inventory = ns, ns+"/inventory"
	for _, engine := range []string{"offline", "server"} {
		t.Run(engine, func(t *testing.T) {
			o := o
			o.Engine = engine
			rep := compare(ctx, o)
			if rep.Error != "" {
				t.Fatal(rep.Error)
			}
			var md bytes.Buffer
			if err := rep.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			checkMasked(t, md.String())
			var got []string
			for _, c := range rep.changed() {
				got = append(got, c.Action.String()+" "+c.ID)
			}
			want := []string{
				"Delete /ConfigMap/" + ns + "/old",
				"Update /ConfigMap/" + ns + "/settings",
				"Update /Secret/" + ns + "/db",
				"Create /Service/" + ns + "/web",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s\nreport:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), md.String())
			}
			if rep.Counts.None != 1 || rep.Counts.Failed != 0 {
				t.Errorf("counts %+v: want the Deployment unchanged and no failure\n%s", rep.Counts, md.String())
			}
			if len(rep.Kept) != 1 || rep.Kept[0] != "/ConfigMap/"+ns+"/kept" {
				t.Errorf("kept = %v", rep.Kept)
			}
			if !strings.Contains(md.String(), "compared with the cluster ("+engine+" engine)") {
				t.Errorf("report does not name the cluster and engine:\n%s", md.String())
			}
		})
	}
}

// A cluster-scoped object declared with a namespace is compared as the cluster
// names it, without one: in sync, not a creation and a deletion.
func TestClusterScopedObjectDeclaredWithNamespace(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	name := "reader-" + ns[len(ns)-6:]
	ms, err := object.Decode(strings.NewReader("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"+
		"metadata: {name: "+name+", namespace: "+ns+"}\nrules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n"), "role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "ci-diff-test"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := m.ApplySet(object.ID{Kind: "Secret", Namespace: ns, Name: "inventory"}, apply.ApplySetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kubernetes.NewForConfigOrDie(cfg).RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	if _, err := m.Apply(ctx, object.Objects(ms), apply.ApplyOptions{Inventory: inv}); err != nil {
		t.Fatal(err)
	}

	o := options{restConfig: cfg, Engine: "offline", FieldManager: "ci-diff-test", Inventory: ns + "/inventory"}
	engine, in, err := clusterInput(ctx, o, &render.Result{Manifests: ms}, &report{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := diff.New(engine, diff.Options{FieldManager: o.FieldManager})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := d.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Counts != (diff.Counts{None: 1}) {
		t.Errorf("counts %+v, want one object in sync: %+v", plan.Counts, plan.Changes)
	}
	want := object.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}
	for _, c := range plan.Changes {
		if c.ID != want {
			t.Errorf("change of %s, want it named as the cluster names it, %s", c.ID, want)
		}
	}
}
