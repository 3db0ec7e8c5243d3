package apply

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// listKey names one list request: a resource at the version being applied, in a
// namespace ("" for cluster-scoped resources).
type listKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// liveCache holds the live objects found by listing each (resource, namespace) of a
// set once, instead of reading every object: the apply compares against them to skip
// writes that would change nothing, and to tell created from configured.
type liveCache struct {
	mu     sync.Mutex
	lists  map[listKey]map[string]*unstructured.Unstructured
	failed map[listKey]bool
}

func newLiveCache() *liveCache {
	return &liveCache{lists: map[listKey]map[string]*unstructured.Unstructured{}, failed: map[listKey]bool{}}
}

// get returns the live object and whether its list was loaded; a loaded list
// without the object means the object does not exist.
func (c *liveCache) get(k listKey, name string) (*unstructured.Unstructured, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lists[k]
	if !ok {
		return nil, false
	}
	return l[name], true
}

// missing returns the keys of ks that are neither loaded nor failed.
func (c *liveCache) missing(ks []listKey) []listKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []listKey
	seen := map[listKey]bool{}
	for _, k := range ks {
		if _, ok := c.lists[k]; ok || c.failed[k] || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}

// load lists k in pages. A failure (forbidden, say) is remembered: its objects are
// then applied without comparing, which is slower but still correct.
func (c *liveCache) load(ctx context.Context, client dynamic.Interface, k listKey) error {
	objs := map[string]*unstructured.Unstructured{}
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := client.Resource(k.gvr).Namespace(k.namespace).List(ctx, opts)
		if err != nil {
			c.mu.Lock()
			c.failed[k] = true
			c.mu.Unlock()
			return err
		}
		for i := range l.Items {
			objs[l.Items[i].GetName()] = &l.Items[i]
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			break
		}
	}
	c.mu.Lock()
	c.lists[k] = objs
	c.mu.Unlock()
	return nil
}
