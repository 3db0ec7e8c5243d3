package health_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
)

// requestCounter counts the API requests that go through a rest.Config, by verb
// ("list", "watch", "get" ...) and path.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
	next   http.RoundTripper
}

func countRequests(cfg *rest.Config) (*rest.Config, *requestCounter) {
	c := &requestCounter{counts: map[string]int{}}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		c.next = rt
		return c
	})
	return cfg, c
}

func (c *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	verb := strings.ToLower(req.Method)
	if strings.HasPrefix(req.URL.Path, "/api/") || strings.HasPrefix(req.URL.Path, "/apis/") {
		if verb == "get" && req.URL.Query().Get("watch") == "true" {
			verb = "watch"
		} else if verb == "get" && !strings.Contains(req.URL.RawQuery, "fieldSelector=metadata.name") {
			verb = "list"
		}
	}
	c.mu.Lock()
	c.counts[verb+" "+req.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

// resourceRequests returns the list and watch requests per resource path, and all
// requests counted.
func (c *requestCounter) resourceRequests() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	per, total := map[string]int{}, 0
	for k, n := range c.counts {
		total += n
		if strings.HasPrefix(k, "list ") || strings.HasPrefix(k, "watch ") {
			per[k] += n
		}
	}
	return per, total
}

// TestWaitOneWatchPerType waits for objects of three types in two namespaces and
// counts the requests: at most one list and one watch per resource type.
func TestWaitOneWatchPerType(t *testing.T) {
	e := newEnv(t)
	other := cluster.NewNamespace(t)
	var ids []object.ID
	for _, ns := range []string{e.ns, other} {
		for i := range 10 {
			ids = append(ids, object.ID{Kind: "ConfigMap", Namespace: ns, Name: fmt.Sprintf("cm-%d", i)})
			ids = append(ids, object.ID{Kind: "Service", Namespace: ns, Name: fmt.Sprintf("svc-%d", i)})
			e.applyIn(ns, fmt.Sprintf(`{apiVersion: v1, kind: ConfigMap, metadata: {name: cm-%d}}`, i))
			e.applyIn(ns, fmt.Sprintf(`{apiVersion: v1, kind: Service, metadata: {name: svc-%d}, spec: {ports: [{port: 80}]}}`, i))
		}
		ids = append(ids, object.ID{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"})
		e.applyIn(ns, deploymentManifest("web", "nginx:1.27", ""))
	}
	ids = append(ids, object.ID{Kind: "Namespace", Name: e.ns}, object.ID{Kind: "Namespace", Name: other})

	for _, perNamespace := range []bool{false, true} {
		t.Run(fmt.Sprintf("perNamespace=%v", perNamespace), func(t *testing.T) {
			cfg, counter := countRequests(e.cfg)
			w, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
			require.NoError(t, err)
			res, err := w.Wait(e.ctx, ids, health.WaitOptions{PerNamespace: perNamespace})
			require.NoError(t, err)
			assert.Equal(t, health.Healthy, res.Status.Code)
			assert.Equal(t, "44 objects done", res.Status.Message)
			per, total := counter.resourceRequests()
			t.Logf("%d requests: %v", total, per)
			watches := 0
			for k, n := range per {
				assert.LessOrEqual(t, n, 1, "%s: one list and one watch per resource type", k)
				if strings.HasPrefix(k, "watch ") {
					watches++
				}
			}
			// configmaps, services, deployments, namespaces; per namespace: 3 types × 2 + namespaces.
			want := 4
			if perNamespace {
				want = 7
			}
			assert.Equal(t, want, watches, "%v", per)
		})
	}
}
