package health

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// counter counts API requests: watches by path, and the others (discovery, lists)
// by method and path.
type counter struct {
	mu           sync.Mutex
	watches      map[string]int
	others       map[string]int
	watch, other int
	next         http.RoundTripper
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if req.URL.Query().Get("watch") == "true" {
		c.watch++
		c.watches[req.URL.Path]++
	} else {
		c.other++
		c.others[req.Method+" "+req.URL.Path]++
	}
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

// BenchmarkWait1000 waits for 1,000 objects (ConfigMaps, Services and Deployments
// that roll out on kwok's fake nodes, in two namespaces) in a real cluster from
// clustertest, and reports the API requests one wait made: the health package opens
// one watch per resource type; a per-object watch or poll would make 1,000 or more.
func BenchmarkWait1000(b *testing.B) {
	ctx := context.Background()
	c, err := clustertest.Start(ctx, clustertest.Options{Nodes: 2})
	if err != nil {
		b.Skipf("cluster: %v", err)
	}
	defer c.Stop()
	cfg := c.RESTConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	var ids []object.ID
	create := func(gvr schema.GroupVersionResource, ns string, obj map[string]any) {
		u := &unstructured.Unstructured{Object: obj}
		if _, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, object.IDOf(u))
		ids[len(ids)-1].Namespace = ns
	}
	for _, ns := range []string{"bench-a", "bench-b"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		for i := range 225 {
			create(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, ns, map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": fmt.Sprintf("cm-%d", i)}})
			create(schema.GroupVersionResource{Version: "v1", Resource: "services"}, ns, map[string]any{
				"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": fmt.Sprintf("svc-%d", i)},
				"spec": map[string]any{"clusterIP": "None", "ports": []any{map[string]any{"port": int64(80)}}}}) // headless: the test cluster has 254 service IPs
		}
		for i := range 50 {
			labels := map[string]any{"app": fmt.Sprintf("web-%d", i)}
			create(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, ns, map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": fmt.Sprintf("web-%d", i)},
				"spec": map[string]any{"replicas": int64(1), "selector": map[string]any{"matchLabels": labels},
					"template": map[string]any{"metadata": map[string]any{"labels": labels},
						"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}}}}})
		}
	}
	if len(ids) != 1000 {
		b.Fatalf("%d objects", len(ids))
	}

	var total counter
	for b.Loop() {
		cnt := &counter{watches: map[string]int{}, others: map[string]int{}}
		counted := rest.CopyConfig(cfg)
		counted.Wrap(func(rt http.RoundTripper) http.RoundTripper { cnt.next = rt; return cnt })
		w, err := health.NewWaiterForConfig(counted, health.WaiterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := w.Wait(ctx, ids, health.WaitOptions{Timeout: 2 * time.Minute})
		if err != nil {
			b.Fatalf("%v: %s", err, res.Status)
		}
		for path, n := range cnt.watches {
			if n > 1 {
				b.Fatalf("%d watches of %s", n, path)
			}
		}
		b.Logf("watches %v; other requests %v", cnt.watches, cnt.others)
		total.watch += cnt.watch
		total.other += cnt.other
	}
	n := float64(b.N)
	b.ReportMetric(float64(total.watch)/n, "watches/op")
	b.ReportMetric(float64(total.watch+total.other)/n, "requests/op")
	b.ReportMetric(1000/(float64(total.watch+total.other)/n), "objects/request")
}
