package live_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

func newCache(t *testing.T, cfg *rest.Config) *live.Cache {
	t.Helper()
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := live.New(clients, live.Options{})
	t.Cleanup(c.Stop)
	return c
}

func createConfigMap(t *testing.T, cfg *rest.Config, ns, name string, data map[string]string) {
	t.Helper()
	_, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(ns).Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// The first read of a resource in a namespace lists and watches it; later reads
// send no request, and see changes through the watch.
func TestObjectsFromWatches(t *testing.T) {
	ctx := context.Background()
	cfg, ns := cluster.Config(t), cluster.NewNamespace(t)
	createConfigMap(t, cfg, ns, "a", map[string]string{"k": "1"})
	var n atomic.Int64
	c := newCache(t, testtool.CountRequests(cfg, &n))
	changed := make(chan object.ID, 10)
	c.OnChange(func(id object.ID) { changed <- id })
	a := object.ID{Kind: "ConfigMap", Namespace: ns, Name: "a"}
	b := object.ID{Kind: "ConfigMap", Namespace: ns, Name: "b"}
	got, err := c.Objects(ctx, []object.ID{a, b})
	if err != nil || len(got) != 1 || got[a].GetName() != "a" {
		t.Fatalf("first read: %v, %v", got, err)
	}
	first := n.Load()
	for range 3 {
		if _, err := c.Objects(ctx, []object.ID{a, b}); err != nil {
			t.Fatal(err)
		}
	}
	if more := n.Load() - first; more != 0 {
		t.Fatalf("reads from the cache sent %d requests", more)
	}
	createConfigMap(t, cfg, ns, "b", nil)
	select {
	case id := <-changed:
		if id != b {
			t.Fatalf("change of %v, want %v", id, b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported for the new object")
	}
	if got, _ := c.Objects(ctx, []object.ID{b}); got[b] == nil {
		t.Fatal("the new object is not in the cache after its event")
	}
	if s := c.Stats(); s.Watches != 1 || s.Objects < 2 || s.Bytes <= 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A read the API server refuses fails with its error, and is tried again on the
// next call instead of waiting forever.
func TestObjectsOfAForbiddenResourceFail(t *testing.T) {
	cfg := cluster.Config(t)
	nobody := rest.CopyConfig(cfg)
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "nobody"} // may read discovery, not ConfigMaps
	c := newCache(t, nobody)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Objects(ctx, []object.ID{{Kind: "ConfigMap", Namespace: "default", Name: "x"}})
	if !apierrors.IsForbidden(err) || ctx.Err() != nil {
		t.Fatalf("err = %v (ctx %v)", err, ctx.Err())
	}
}

// After the API server restarts on the same storage, the watches list and watch
// again: a change made after the restart is reported and read.
func TestWatchesResumeAfterAPIServerRestart(t *testing.T) {
	ctx := context.Background()
	api := cluster.NewAPIServer(t)
	cfg := api.RESTConfig()
	createConfigMap(t, cfg, "default", "before", nil)
	c := newCache(t, cfg)
	changed := make(chan object.ID, 10)
	c.OnChange(func(id object.ID) { changed <- id })
	before := object.ID{Kind: "ConfigMap", Namespace: "default", Name: "before"}
	if got, err := c.Objects(ctx, []object.ID{before}); err != nil || got[before] == nil {
		t.Fatalf("before the restart: %v, %v", got, err)
	}
	start := time.Now()
	if err := api.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server restarted in %v", time.Since(start).Round(time.Millisecond))
	createConfigMap(t, cfg, "default", "after", nil)
	after := object.ID{Kind: "ConfigMap", Namespace: "default", Name: "after"}
	deadline := time.After(60 * time.Second)
	for {
		select {
		case id := <-changed:
			if id == after {
				t.Logf("change seen %v after the restart began", time.Since(start).Round(time.Millisecond))
				if got, _ := c.Objects(ctx, []object.ID{after, before}); got[after] == nil || got[before] == nil {
					t.Fatalf("after the restart the cache holds %v", got)
				}
				return
			}
		case <-deadline:
			t.Fatal("the change after the restart was never reported")
		}
	}
}

// A controller reporting status is not a change: only what a diff could see is.
// OnEveryChange reports both.
func TestStatusAloneIsNoChange(t *testing.T) {
	ctx := context.Background()
	cfg, ns := cluster.Config(t), cluster.NewNamespace(t)
	apps := kubernetes.NewForConfigOrDie(cfg).AppsV1().Deployments(ns)
	if _, err := apps.Create(ctx, webDeployment(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := newCache(t, cfg)
	changed := make(chan object.ID, 10)
	c.OnChange(func(id object.ID) { changed <- id })
	every := make(chan object.ID, 10)
	c.OnEveryChange(func(id object.ID) { every <- id })
	if _, err := c.Objects(ctx, []object.ID{{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	statusThenSpec(t, cfg, ns)
	for i := range 2 {
		select {
		case <-every:
		case <-time.After(10 * time.Second):
			t.Fatalf("OnEveryChange reported %d of the two changes (status, spec)", i)
		}
	}
	select {
	case <-changed: // the first change reported must be the spec's
	case <-time.After(10 * time.Second):
		t.Fatal("the spec change was not reported")
	}
	got, err := c.Objects(ctx, []object.ID{{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); r != 2 {
			t.Fatalf("the change reported first was the status one: replicas %d", r)
		}
	}
	select {
	case id := <-changed:
		t.Fatalf("a second change of %v was reported: the status update", id)
	case <-time.After(500 * time.Millisecond):
	}
}
