package testtool

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// CountRequests returns a copy of cfg whose clients add one to n for every
// request they send (a watch counts once, when it starts).
func CountRequests(cfg *rest.Config, n *atomic.Int64) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return next.RoundTrip(r)
		})
	})
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Verbs counts the requests a config's clients send, by verb and resource:
// "list configmaps", "watch widgets", "get secrets", "patch deployments".
type Verbs struct {
	mu sync.Mutex
	n  map[string]int
}

// CountVerbs returns a copy of cfg whose clients count their requests in the
// returned Verbs.
func CountVerbs(cfg *rest.Config) (*rest.Config, *Verbs) {
	v := &Verbs{n: map[string]int{}}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if res, collection, ok := resourceOf(r.URL.Path); ok {
				verb := strings.ToLower(r.Method)
				switch {
				case verb == "get" && r.URL.Query().Get("watch") == "true":
					verb = "watch"
				case verb == "get" && collection:
					verb = "list"
				}
				v.mu.Lock()
				v.n[verb+" "+res]++
				v.mu.Unlock()
			}
			return next.RoundTrip(r)
		})
	})
	return cfg, v
}

// Get returns the count of key ("list configmaps").
func (v *Verbs) Get(key string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.n[key]
}

// Reset sets every count to zero.
func (v *Verbs) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.n)
}

// String lists the counts, sorted.
func (v *Verbs) String() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	keys := slices.Sorted(maps.Keys(v.n))
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s: %d", k, v.n[k])
	}
	return strings.Join(keys, ", ")
}

// resourceOf returns the resource an API path names, whether it names the
// collection (no object name), and whether it is a resource path at all.
func resourceOf(path string) (string, bool, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "", false, false
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	return parts[0], len(parts) == 1, true
}
