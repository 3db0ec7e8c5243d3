package update

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
	"github.com/gitopskit/gitopskit/update/updatetest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// The whole GitOps path of a new image: the registry gets a tag, the updater
// commits it to the repository, and the next reconcile pass deploys that commit.
func TestUpdateThenReconcileDeploys(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()

	reg := updatetest.NewRegistry(t, updatetest.Options{Auth: updatetest.TokenFlow})
	reg.Push(t, "team/app", "1.0.0")
	repo := gittest.NewRepo(t, "", "live.git")
	manifest := strings.NewReplacer("REGISTRY", reg.Host, "NS", ns).Replace(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: NS
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: REGISTRY/team/app:1.0.0 # {"$imagepolicy": "shop:app"}
`)
	repo.Commit("initial", map[string]string{"deploy/app.yaml": manifest})
	repo.Publish()
	srv := gittest.NewHTTPServer(t, repo.Root, gittest.HTTPOptions{})
	// The agent and the updater each have their own checkout, as in production.
	checkout := func() *git.Repository {
		g, err := git.New(git.Options{URL: srv.URL + "/live.git", CacheDir: t.TempDir(), Ref: git.Ref{Branch: "main"}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	agent, err := reconcile.NewForConfig(cfg, reconcile.Stages{Source: checkout()},
		reconcile.Options{Cluster: reconcile.ClusterOptions{Inventory: object.ID{Kind: "ConfigMap", Namespace: ns, Name: "inventory"}}, Path: "deploy", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	image := func() string {
		d, err := kubernetes.NewForConfigOrDie(cfg).AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Spec.Containers[0].Image
	}

	first, err := agent.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := image(), reg.Host+"/team/app:1.0.0"; got != want {
		t.Fatalf("after the first pass the image is %q, want %q", got, want)
	}

	reg.Push(t, "team/app", "1.1.0", "2.0.0")
	upd, err := Run(ctx, Options{
		Policies:   []Policy{{Name: "shop:app", Image: reg.Host + "/team/app", SemVer: &SemVer{Range: "^1"}}},
		Registry:   &Registry{Auth: RegistryAuth{Username: reg.Username, Password: reg.Password}},
		Repository: checkout(),
		Path:       "deploy",
		Author:     source.Signature{Name: "Image Updater", Email: "updater@example.com", When: time.Now()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.Pushed || upd.Revision == first.Revision {
		t.Fatalf("the updater pushed nothing new: %+v", upd)
	}

	second, err := agent.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Revision != upd.Revision || !second.Wrote {
		t.Fatalf("the pass deployed %s (wrote %v), want the updater's %s", second.Revision, second.Wrote, upd.Revision)
	}
	if got, want := image(), reg.Host+"/team/app:1.1.0"; got != want {
		t.Fatalf("after the update the image is %q, want %q", got, want)
	}
}
