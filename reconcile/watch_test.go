package reconcile_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
)

// watchedSet is a self-healing set of two ConfigMaps whose Cluster keeps its live
// state from watches, with a count of the requests its clients send.
func watchedSet(t *testing.T) (*reconcile.Reconciler, *reconcile.Cluster, *atomic.Int64, string) {
	r, c, _, n, ns := watchedSetIn(t)
	return r, c, n, ns
}

// watchedSetIn is watchedSet, with its cache.
func watchedSetIn(t *testing.T) (*reconcile.Reconciler, *reconcile.Cluster, *live.Cache, *atomic.Int64, string) {
	t.Helper()
	cfg, ns := cluster.Config(t), cluster.NewNamespace(t)
	var n atomic.Int64
	c, cache := watchedCluster(t, testtool.CountRequests(cfg, &n), ns)
	dir := t.TempDir()
	testtool.WriteFiles(t, dir, map[string]string{
		"deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: " + ns + "}\ndata: {color: blue}\n",
		"deploy/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: " + ns + "}\ndata: {size: large}\n",
	})
	r, err := reconcile.New(reconcile.Stages{Source: source.Local{Dir: dir}, Differ: c, Applier: c, Health: c},
		reconcile.Options{Mode: reconcile.SelfHeal, Path: "deploy", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	return r, c, cache, &n, ns
}

// watchedCluster is a Cluster of cfg whose live state comes from a new cache,
// with its inventory in ns.
func watchedCluster(t *testing.T, cfg *rest.Config, ns string) (*reconcile.Cluster, *live.Cache) {
	t.Helper()
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cache := live.New(clients, live.Options{})
	t.Cleanup(cache.Stop)
	c, err := reconcile.NewCluster(clients, reconcile.ClusterOptions{FieldManager: "watch-test", Force: true, Live: cache,
		Inventory: object.ID{Kind: "Secret", Namespace: ns, Name: "inventory"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, cache
}

// After the first pass and the first after it wrote, a pass whose revision and
// live state did not change sends no request at all.
func TestWatchedSteadyStateSendsNoRequest(t *testing.T) {
	r, _, n, _ := watchedSet(t)
	ctx := context.Background()
	var counts []int64
	for i := range 4 {
		before := n.Load()
		res, err := r.Reconcile(ctx)
		if err != nil {
			t.Fatalf("pass %d: %v", i+1, err)
		}
		counts = append(counts, n.Load()-before)
		t.Logf("pass %d: wrote %v, drift %v, %d requests", i+1, res.Wrote, res.Drift, counts[i])
	}
	if counts[2] != 0 || counts[3] != 0 {
		t.Fatalf("requests per pass %v: the steady state sent requests", counts)
	}
}

// A manual edit of a member is an event: Drifted fires, and the pass it wakes
// takes the field back.
func TestWatchedDriftWakesThePass(t *testing.T) {
	r, c, _, ns := watchedSet(t)
	ctx := context.Background()
	for range 2 {
		if _, err := r.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for len(c.Drifted()) > 0 { // the events of the first apply
		<-c.Drifted()
	}
	cms := kubernetes.NewForConfigOrDie(cluster.Config(t)).CoreV1().ConfigMaps(ns)
	edited := time.Now()
	_, err := cms.Patch(ctx, "a", types.MergePatchType, []byte(`{"data":{"color":"red"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Drifted():
	case <-time.After(30 * time.Second):
		t.Fatal("the edit did not wake the set")
	}
	woken := time.Since(edited)
	res, err := r.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	healed := time.Since(edited)
	var cm *corev1.ConfigMap
	if cm, err = cms.Get(ctx, "a", metav1.GetOptions{}); err != nil || cm.Data["color"] != "blue" {
		t.Fatalf("after the pass: %v, %v", cm, err)
	}
	t.Logf("edit seen after %v, healed after %v (drift %v)", woken.Round(time.Millisecond), healed.Round(time.Millisecond), res.Drift)
	if len(res.Drift) != 1 || res.Drift[0].Name != "a" {
		t.Fatalf("drift %v, want configmap a", res.Drift)
	}
}

// The cache holds the set's objects whole and the inventory's Secret as
// metadata; Close gives the objects back, and the set is no longer woken.
func TestWatchedSetHoldsItsObjectsWhole(t *testing.T) {
	r, c, cache, _, ns := watchedSetIn(t)
	ctx := context.Background()
	for range 3 {
		if _, err := r.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s := cache.Stats(); s.Full != 2 || s.Metadata != 1 {
		t.Fatalf("stats %+v, want the two ConfigMaps whole and the inventory as metadata", s)
	}
	c.Close()
	if s := cache.Stats(); s.Full != 0 || s.Metadata != 3 {
		t.Fatalf("stats after Close %+v, want all three as metadata", s)
	}
	for len(c.Drifted()) > 0 {
		<-c.Drifted()
	}
	cms := kubernetes.NewForConfigOrDie(cluster.Config(t)).CoreV1().ConfigMaps(ns)
	if _, err := cms.Patch(ctx, "a", types.MergePatchType, []byte(`{"data":{"color":"red"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Drifted():
		t.Fatal("a closed Cluster was woken")
	case <-time.After(500 * time.Millisecond):
	}
}
