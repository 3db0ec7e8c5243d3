package apply

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/object"
)

// Live is a source of live objects kept current by watches, such as a
// live.Cache shared by the sets of a cluster: see [ApplyOptions.Live].
type Live interface {
	// Objects returns the live copies of the objects of ids that exist; kinds the
	// cluster does not serve have none. The copies must not be changed.
	Objects(ctx context.Context, ids []object.ID) (map[object.ID]*unstructured.Unstructured, error)
}

// listKey names one list request: a resource at the version being applied, in a
// namespace ("" for cluster-scoped resources).
type listKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// liveCache holds the live objects of a set, read from [ApplyOptions.Live] or found
// by listing each (resource, namespace) of the set once, instead of reading every
// object: the apply compares against them to skip writes that would change
// nothing, and to tell created from configured.
type liveCache struct {
	mu     sync.Mutex
	lists  map[listKey]map[string]*unstructured.Unstructured
	failed map[listKey]bool
	// objects has the copies read from ApplyOptions.Live, nil for an object
	// that does not exist.
	objects map[object.ID]*unstructured.Unstructured
}

func newLiveCache() *liveCache {
	return &liveCache{lists: map[listKey]map[string]*unstructured.Unstructured{}, failed: map[listKey]bool{},
		objects: map[object.ID]*unstructured.Unstructured{}}
}

// get returns t's live object and whether it is known, read from the Live or
// from its loaded list: a known object that is nil does not exist.
func (c *liveCache) get(t *task) (*unstructured.Unstructured, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.objects[t.id]; ok {
		return u, true
	}
	l, ok := c.lists[t.listKey()]
	if !ok {
		return nil, false
	}
	return l[t.id.Name], true
}

// read records the copies of the objects of ids that live has, and that the
// others do not exist.
func (c *liveCache) read(ctx context.Context, live Live, ids []object.ID) error {
	objs, err := live.Objects(ctx, ids)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.objects[id] = objs[id]
	}
	return nil
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
