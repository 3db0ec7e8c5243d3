package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source/git"
)

// TestCreateNamespace follows `gitsync --namespace <new>`: the objects and the
// inventory's parent go to a namespace nobody created.
func TestCreateNamespace(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1")})
	ctx := context.Background()
	target := e.ns + "-new"
	t.Cleanup(func() { _ = e.cs.CoreV1().Namespaces().Delete(context.Background(), target, metav1.DeleteOptions{}) })
	newRec := func(mode reconcile.Mode, create bool) *reconcile.Reconciler {
		repo, err := git.New(git.Options{URL: e.url, Ref: git.Ref{Branch: "main"}, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := reconcile.NewForConfig(cluster.Config(t), reconcile.Stages{Source: repo},
			reconcile.Options{Cluster: reconcile.ClusterOptions{FieldManager: "gitsync-test", Inventory: object.ID{Kind: "Secret", Namespace: target, Name: "inventory"}, Namespace: target}, Mode: mode, Path: "deploy", Prune: true, Wait: true, HealthTimeout: time.Minute, CreateNamespace: create})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	exists := func() bool {
		_, err := e.cs.CoreV1().Namespaces().Get(ctx, target, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	_, err := newRec(reconcile.Apply, false).Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), `namespace "`+target+`"`) || !strings.Contains(err.Error(), "CreateNamespace") ||
		!strings.Contains(err.Error(), "a.yaml") {
		t.Fatalf("without CreateNamespace: error %v, want one naming the namespace, the file and the option", err)
	}

	res := e.pass(newRec(reconcile.DryRun, true))
	if exists() {
		t.Fatal("a dry run created the namespace")
	}
	nsID := object.ID{Kind: "Namespace", Name: target}
	if !outcome(res, nsID, apply.Created) {
		t.Errorf("dry run: %+v does not report the namespace created", res.Objects)
	}

	rec := newRec(reconcile.Apply, true)
	res = e.pass(rec)
	if !exists() || !outcome(res, nsID, apply.Created) || !outcome(res, object.ID{Kind: "ConfigMap", Namespace: target, Name: "a"}, apply.Created) {
		t.Fatalf("apply: namespace exists %v, results %+v", exists(), res.Objects)
	}
	res = e.pass(rec)
	if res.NotApplied != reconcile.SkipInSync {
		t.Errorf("second pass: %q, want in sync (the created namespace is no drift)", res.NotApplied)
	}
}

func outcome(res *reconcile.Result, id object.ID, want apply.Action) bool {
	for _, o := range res.Objects {
		if o.ID == id {
			return o.Action == want
		}
	}
	return false
}
