package snippets

import (
	"bytes"
	"context"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/kustomize"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// snippet: getting-started
// Sync deploys the directory path of the Git repository url to the cluster of cfg,
// once: fetch, render, diff, apply (recording the set in an ApplySet in namespace
// ns, pruning what left it), and wait until everything is healthy.
func Sync(ctx context.Context, cfg *rest.Config, url, path, ns, cacheDir string, out io.Writer) error {
	// Fetch: a shallow clone the first time, an incremental fetch after.
	repo, err := git.New(git.Options{URL: url, Ref: git.Ref{Branch: "main"}, CacheDir: cacheDir})
	if err != nil {
		return err
	}
	art, err := repo.Fetch(ctx)
	if err != nil {
		return err
	}

	// Render: plain YAML, a kustomization or a Helm chart, read only inside the artifact.
	renderer := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
	res, err := renderer.Render(ctx, render.Input{FS: art.FS, Dir: path, Digest: art.Digest}, render.Options{})
	if err != nil {
		return err
	}
	objs := object.Objects(res.Manifests)

	// The clients every stage shares, and the inventory whose labels the apply adds.
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	manager, err := apply.NewForClients(dyn, mapper, apply.Options{FieldManager: "my-tool"})
	if err != nil {
		return err
	}
	inventory, err := manager.ApplySet(object.ID{Kind: "Secret", Namespace: ns, Name: "my-tool"}, apply.ApplySetOptions{})
	if err != nil {
		return err
	}
	members, err := inventory.Load(ctx)
	if err != nil {
		return err
	}
	var live []*unstructured.Unstructured
	for _, u := range objs {
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, inventory.Labels())
		u.SetLabels(labels)
		m, err := mapper.RESTMapping(u.GroupVersionKind().GroupKind())
		if err != nil {
			return err
		}
		l, err := dyn.Resource(m.Resource).Namespace(u.GetNamespace()).Get(ctx, u.GetName(), metav1.GetOptions{})
		if err == nil {
			live = append(live, l)
		} else if !apierrors.IsNotFound(err) {
			return err
		}
	}

	// Diff: what the apply will change, three-way, as the API server sees it.
	differ, err := diff.New(diff.NewServer(dyn, mapper), diff.Options{FieldManager: "my-tool"})
	if err != nil {
		return err
	}
	plan, err := differ.Plan(ctx, diff.Input{Desired: objs, Live: live, Inventory: members})
	if err != nil {
		return err
	}
	if err := plan.WriteText(out, diff.TextOptions{}); err != nil {
		return err
	}
	if !plan.Counts.Changed() {
		return nil
	}

	// Apply in order (namespaces, CRDs, config, workloads), record the set, prune.
	if _, err := manager.Apply(ctx, objs, apply.ApplyOptions{Inventory: inventory, Prune: true}); err != nil {
		return err
	}

	// Wait: one watch per resource type until every object is Healthy.
	ids := make([]object.ID, len(objs))
	for i, u := range objs {
		ids[i] = object.IDOf(u)
	}
	_, err = health.NewWaiter(dyn, mapper, health.WaiterOptions{}).
		Wait(ctx, ids, health.WaitOptions{Timeout: 2 * time.Minute, FailFast: true})
	return err
}

// end snippet

func TestGettingStarted(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	r := gittest.NewRepo(t, "", "apps.git")
	r.Commit("first", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  color: blue\n",
		"deploy/old.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: " + ns + "\n",
	})
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	url, cache := srv.URL+"/"+r.Name, t.TempDir()

	sync := func(want ...string) {
		t.Helper()
		var out bytes.Buffer
		if err := Sync(ctx, cfg, url, "deploy", ns, cache, &out); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("diff lacks %q:\n%s", w, out.String())
			}
		}
		if len(want) == 0 && out.Len() > 0 {
			t.Errorf("an unchanged repository shows a diff:\n%s", out.String())
		}
	}
	sync("+++ predicted//ConfigMap/"+ns+"/settings", "+  color: blue")
	sync()

	r.Commit("second", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  color: green\n",
		"deploy/old.yaml":      gittest.Delete,
	})
	r.Publish()
	sync("-  color: blue", "+  color: green", "--- live//ConfigMap/"+ns+"/old")
	dyn := dynamic.NewForConfigOrDie(cfg)
	cms := dyn.Resource(configMaps).Namespace(ns)
	if _, err := cms.Get(ctx, "old", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the removed ConfigMap was not pruned: %v", err)
	}
	got, err := cms.Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := unstructured.NestedString(got.Object, "data", "color"); c != "green" {
		t.Errorf("color = %q, want green", c)
	}
	sync()
}

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// snippet: getting-started-reconcile
// NewAgent returns a reconciler that runs the same pass in self-heal mode; call its
// Reconcile on an interval. It remembers the last render and applied revision.
func NewAgent(cfg *rest.Config, url, ns, cacheDir string) (*reconcile.Reconciler, error) {
	repo, err := git.New(git.Options{URL: url, CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	return reconcile.NewForConfig(cfg,
		reconcile.Stages{Source: repo, Renderer: render.Auto{Kustomize: kustomize.New(kustomize.Options{})}},
		reconcile.ClusterOptions{
			FieldManager: "my-tool",
			Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: "my-tool"},
			Force:        true, // take back fields a manual edit changed
		},
		reconcile.Options{Mode: reconcile.SelfHeal, Path: "deploy", Prune: true, Wait: true})
}

// end snippet

func TestNewAgent(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	r := gittest.NewRepo(t, "", "apps.git")
	head := r.Commit("first", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  color: blue\n",
	})
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	rec, err := NewAgent(cfg, srv.URL+"/"+r.Name, ns, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := rec.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != "main@sha1:"+head || len(res.Applied()) != 1 || !res.Wrote {
		t.Errorf("first pass: revision %s, applied %v, wrote %v", res.Revision, res.Applied(), res.Wrote)
	}
	res, err = rec.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrote || !res.InSync() || res.Rendered {
		t.Errorf("second pass over the same revision: wrote %v, in sync %v, rendered %v", res.Wrote, res.InSync(), res.Rendered)
	}
}
