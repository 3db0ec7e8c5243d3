package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	if isolate.Child() {
		return
	}
	cluster.Run(m)
}

// readManifests decodes a file of config/.
func readManifests(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(filepath.Join("config", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := object.Decode(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return object.Objects(ms)
}

// installCRD applies config/crd.yaml; the apply waits until it is Established.
func installCRD(t *testing.T, cfg *rest.Config) {
	t.Helper()
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(context.Background(), readManifests(t, "crd.yaml"), apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The shipped manifests are valid for the API server: a server-side dry run of
// all of them, after the CRD, succeeds.
func TestManifestsApply(t *testing.T) {
	cfg := cluster.Config(t)
	installCRD(t, cfg)
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, f := range []string{"rbac.yaml", "deployment.yaml", "samples/gitsync.yaml", "optional/apply-with-controller-rights.yaml"} {
		objs = append(objs, readManifests(t, f)...)
	}
	// The Deployment's namespace does not exist in a dry run; apply it for real.
	ns := objs[0]
	if ns.GetKind() != "Namespace" {
		t.Fatalf("rbac.yaml starts with %s, want the Namespace", object.IDOf(ns))
	}
	if _, err := m.Apply(context.Background(), objs[:1], apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := m.Apply(context.Background(), objs[1:], apply.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	// Another test may have applied rbac.yaml for real.
	if n := res.Count(apply.Created) + res.Count(apply.Unchanged); n != len(objs)-1 {
		t.Errorf("%d of %d objects would be created or are unchanged: %+v", n, len(objs)-1, res.Events)
	}
}

// The controller runs in process against the cluster and syncs a repository
// served over smart HTTP: the first commit, a change, a manual edit reverted, a
// removed file pruned, and a broken commit reported without touching the cluster.
func TestControllerSyncs(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	mgr, err := newManager(cfg, options{
		leaderElect: true, leaderElectionNS: ns, metricsAddr: "0", probeAddr: "0",
		cacheDir: t.TempDir(), fieldManager: "gitsync-controller",
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	r := gittest.NewRepo(t, "", "apps.git")
	cm := func(name, color string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  color: " + color + "\n"
	}
	first := r.Commit("first", map[string]string{"deploy/settings.yaml": cm("settings", "blue"), "deploy/old.yaml": cm("old", "red")})
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})

	// Read around the manager's cache: a cached read right after a write can still
	// see the old object.
	c, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		t.Fatal(err)
	}
	gs := &v1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns},
		Spec: v1alpha1.GitSyncSpec{
			URL: srv.URL + "/" + r.Name, Ref: v1alpha1.GitRef{Branch: "main"}, Path: "deploy",
			Interval: metav1.Duration{Duration: time.Second}, Prune: true,
		},
	}
	if err := c.Create(ctx, gs); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: ns, Name: "apps"}
	waitStatus(t, c, key, "first commit applied", func(s v1alpha1.GitSyncStatus) bool {
		return s.LastAppliedRevision == "main@sha1:"+first && ready(s) == metav1.ConditionTrue
	})
	checkColor(t, c, ns, "settings", "blue")
	checkColor(t, c, ns, "old", "red")
	got := &v1alpha1.GitSync{}
	if err := c.Get(ctx, key, got); err != nil {
		t.Fatal(err)
	}
	if inv := strings.Join(got.Status.Inventory, ","); inv != "/ConfigMap/"+ns+"/old,/ConfigMap/"+ns+"/settings" {
		t.Errorf("inventory = %s", inv)
	}

	// A new commit: a change and a removed file.
	second := r.Commit("second", map[string]string{"deploy/settings.yaml": cm("settings", "green"), "deploy/old.yaml": gittest.Delete})
	r.Publish()
	waitStatus(t, c, key, "second commit applied", func(s v1alpha1.GitSyncStatus) bool {
		return s.LastAppliedRevision == "main@sha1:"+second && ready(s) == metav1.ConditionTrue
	})
	checkColor(t, c, ns, "settings", "green")
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "old"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("the removed ConfigMap was not pruned: %v", err)
	}

	// A manual edit is reverted (self-heal) within an interval or two.
	var live corev1.ConfigMap
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "settings"}, &live); err != nil {
		t.Fatal(err)
	}
	live.Data["color"] = "pink"
	if err := c.Update(ctx, &live, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "manual edit reverted", func() bool {
		var cm corev1.ConfigMap
		return c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "settings"}, &cm) == nil && cm.Data["color"] == "green"
	})

	// A broken commit: Ready turns False naming the file; the cluster is untouched.
	r.Commit("broken", map[string]string{"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"})
	r.Publish()
	waitStatus(t, c, key, "broken commit reported", func(s v1alpha1.GitSyncStatus) bool {
		cond := apimeta.FindStatusCondition(s.Conditions, v1alpha1.ConditionReady)
		return cond != nil && cond.Status == metav1.ConditionFalse && cond.Reason == "RenderFailed" &&
			strings.Contains(cond.Message, "deploy/settings.yaml")
	})
	if err := c.Get(ctx, key, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.LastAppliedRevision != "main@sha1:"+second {
		t.Errorf("lastAppliedRevision = %s after a broken commit, want the last good one", got.Status.LastAppliedRevision)
	}
	checkColor(t, c, ns, "settings", "green")

	// Events tell the story.
	var events eventsv1.EventList
	if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	reasons := map[string]bool{}
	for _, e := range events.Items {
		if e.Regarding.Kind == "GitSync" && e.Regarding.Name == "apps" {
			reasons[e.Reason] = true
		}
	}
	if !reasons["Applied"] || !reasons["ReconcileFailed"] {
		t.Errorf("events about the GitSync: %v, want Applied and ReconcileFailed", reasons)
	}
}

func ready(s v1alpha1.GitSyncStatus) metav1.ConditionStatus {
	if c := apimeta.FindStatusCondition(s.Conditions, v1alpha1.ConditionReady); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

func waitStatus(t *testing.T, c client.Client, key types.NamespacedName, what string, ok func(v1alpha1.GitSyncStatus) bool) {
	t.Helper()
	var last v1alpha1.GitSync
	waitFor(t, what, func() bool {
		return c.Get(context.Background(), key, &last) == nil && ok(last.Status)
	}, func() { t.Logf("last status: %+v", last.Status) })
}

// waitFor checks ok until it holds, for up to a minute.
func waitFor(t *testing.T, what string, ok func() bool, onFail ...func()) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			for _, f := range onFail {
				f()
			}
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkColor(t *testing.T, c client.Client, ns, name, want string) {
	t.Helper()
	var cm corev1.ConfigMap
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &cm); err != nil {
		t.Fatalf("ConfigMap %s: %v", name, err)
	}
	if cm.Data["color"] != want {
		t.Errorf("ConfigMap %s color = %q, want %q", name, cm.Data["color"], want)
	}
}
