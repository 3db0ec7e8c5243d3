package snippets

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/kube"
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
	// Fetch the remote's default branch: a shallow clone the first time, an
	// incremental fetch after. Ref picks a branch, tag, semver range or commit.
	repo, err := git.New(git.Options{URL: url, CacheDir: cacheDir})
	if err != nil {
		return err
	}
	art, err := repo.Fetch(ctx)
	if err != nil {
		return err
	}

	// Render plain YAML, a kustomization or a Helm chart, reading only inside the artifact.
	renderer := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
	res, err := renderer.Render(ctx, render.Input{FS: art.FS, Dir: path, Digest: art.Digest}, render.Options{})
	if err != nil {
		return err
	}
	objs := object.Objects(res.Manifests)

	// One set of clients (a connection pool, a discovery cache) for every stage.
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return err
	}
	// The cluster's stages share those clients and the ApplySet inventory.
	cluster, err := reconcile.NewCluster(clients, reconcile.ClusterOptions{
		FieldManager: "my-tool",
		Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: "my-tool"},
	})
	if err != nil {
		return err
	}

	// Diff against the live objects and the inventory's members: which fields an
	// apply changes and what a prune deletes. Objects that could not be compared
	// are in plan.Failed; the plan of the others is still printed.
	plan, err := cluster.Diff(ctx, objs)
	if plan != nil {
		for _, c := range plan.Changed() {
			fmt.Fprintln(out, c.Action, c.ID, strings.Join(c.Paths, " "))
		}
	}
	if err != nil || !plan.Counts.Changed() {
		return err
	}

	// Apply in order (namespaces, CRDs, config, workloads), record the set, prune.
	if _, err := cluster.Prune(ctx, objs, reconcile.ApplyOptions{}); err != nil {
		return err
	}

	// Wait, with one watch per resource type, until every object is healthy.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err = cluster.Wait(ctx, object.IDs(objs), nil)
	return err
}

// end snippet

func TestGettingStarted(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	// The repository's default branch is master, as in many public repositories.
	r := gittest.NewRepo(t, "", "apps.git")
	r.Git("checkout", "-q", "-b", "master")
	gittest.Git(t, r.Bare(), "symbolic-ref", "HEAD", "refs/heads/master")
	r.Commit("first", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  color: blue\n",
		"deploy/old.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: " + ns + "\n",
	})
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	url, cache := srv.URL+"/"+r.Name, t.TempDir()

	sync := func(want ...string) error {
		t.Helper()
		var out bytes.Buffer
		err := Sync(ctx, cfg, url, "deploy", ns, cache, &out)
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("plan lacks %q:\n%s", w, out.String())
			}
		}
		if len(want) == 0 && out.Len() > 0 {
			t.Errorf("an unchanged repository shows a plan:\n%s", out.String())
		}
		return err
	}
	if err := sync("Create /ConfigMap/"+ns+"/settings", "Create /ConfigMap/"+ns+"/old"); err != nil {
		t.Fatal(err)
	}
	if err := sync(); err != nil {
		t.Fatal(err)
	}

	r.Commit("second", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  color: green\n",
		"deploy/old.yaml":      gittest.Delete,
	})
	r.Publish()
	if err := sync("Update /ConfigMap/"+ns+"/settings .data.color", "Delete /ConfigMap/"+ns+"/old"); err != nil {
		t.Fatal(err)
	}
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
	if err := sync(); err != nil {
		t.Fatal(err)
	}

	// An object that cannot be diffed fails the sync before anything is applied,
	// and the plan of the others is still printed.
	r.Commit("third", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + "\ndata:\n  color: red\n",
		"deploy/bad.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: " + ns + "\ndata:\n  list: [1, 2]\n",
	})
	r.Publish()
	if err := sync("Update /ConfigMap/" + ns + "/settings .data.color"); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("a ConfigMap with a list in data: got %v, want an error naming it", err)
	}
	if got, err = cms.Get(ctx, "settings", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := unstructured.NestedString(got.Object, "data", "color"); c != "green" {
		t.Errorf("color = %q after a failed plan, want green unchanged", c)
	}
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
		reconcile.Options{Cluster: reconcile.ClusterOptions{
			FieldManager: "my-tool",
			Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: "my-tool"},
			Force:        true, // take back fields a manual edit changed
		}, Mode: reconcile.SelfHeal, Path: "deploy", Prune: true, Wait: true})
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
