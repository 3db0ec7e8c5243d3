package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/object"
)

// Key names the objects of one resource in one namespace ("" for a
// cluster-scoped resource): what one watch follows.
type Key struct {
	Resource  schema.GroupVersionResource
	Namespace string
}

// Options configure a [Cache].
type Options struct {
	// Logger receives a line when a watch starts, fails or stops.
	Logger logr.Logger
}

// Cache keeps the live objects of the resources and namespaces it was asked for,
// fed by watches. The first request for a [Key] lists it and starts a watch;
// later requests are answered from memory, with no request to the API server.
// A watch that expires, or an API server that restarts, is listed again and
// watched anew by client-go's reflector. It is safe for concurrent use and meant
// to be shared by every set of one cluster.
type Cache struct {
	client dynamic.Interface
	mapper meta.RESTMapper
	log    logr.Logger

	ctx    context.Context // ends the watches
	cancel context.CancelFunc

	mu      sync.Mutex
	watches map[Key]*watcher
	subs    map[int]func(object.ID)
	nextSub int
}

// watcher is the informer of one Key.
type watcher struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	synced   chan struct{} // closed once the first list is in
	failed   chan struct{} // closed when a list or watch fails before that
	fail     sync.Once
	mu       sync.Mutex
	err      error // the last list or watch error, cleared by a success
}

// New returns a Cache over clients (see kube.NewForConfig). Stop ends its watches.
func New(clients *kube.Clients, opts Options) *Cache {
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache{client: clients.Dynamic, mapper: clients.Mapper, log: opts.Logger, ctx: ctx, cancel: cancel,
		watches: map[Key]*watcher{}, subs: map[int]func(object.ID){}}
}

// Stop ends every watch. The Cache answers nothing after it.
func (c *Cache) Stop() { c.cancel() }

// OnChange calls fn with the ID of each object that is added, changed or deleted
// in a watched Key once its first list is in (not for the objects the first list
// finds), from the watch's goroutine. A change of the status alone (a
// controller reporting progress) is not reported: it cannot be drift. cancel
// stops the calls.
func (c *Cache) OnChange(fn func(object.ID)) (cancel func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.subs, id)
	}
}

// KeyOf returns the Key whose watch holds id, and false when the cluster does not
// serve id's kind.
func (c *Cache) KeyOf(id object.ID) (Key, bool, error) {
	m, err := c.mapper.RESTMapping(id.GroupKind())
	if meta.IsNoMatchError(err) {
		return Key{}, false, nil
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("%s: resource type: %w", id.KubectlString(), err)
	}
	k := Key{Resource: m.Resource}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		k.Namespace = id.Namespace
	}
	return k, true, nil
}

// Objects returns the live copies of the objects of ids that exist, watching the
// Keys they belong to from now on. Kinds the cluster does not serve have no live
// copy. The objects are the Cache's: callers must not change them.
func (c *Cache) Objects(ctx context.Context, ids []object.ID) (map[object.ID]*unstructured.Unstructured, error) {
	out := make(map[object.ID]*unstructured.Unstructured, len(ids))
	for _, id := range ids {
		k, ok, err := c.KeyOf(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		w, err := c.watch(ctx, k)
		if err != nil {
			return nil, err
		}
		key := id.Name
		if k.Namespace != "" {
			key = k.Namespace + "/" + id.Name
		}
		item, exists, err := w.informer.GetStore().GetByKey(key)
		if err != nil {
			return nil, err
		}
		if exists {
			out[id] = item.(*unstructured.Unstructured)
		}
	}
	return out, nil
}

// List returns every object of k, watching it from now on. The objects are the
// Cache's: callers must not change them.
func (c *Cache) List(ctx context.Context, k Key) ([]*unstructured.Unstructured, error) {
	w, err := c.watch(ctx, k)
	if err != nil {
		return nil, err
	}
	items := w.informer.GetStore().List()
	out := make([]*unstructured.Unstructured, len(items))
	for i, item := range items {
		out[i] = item.(*unstructured.Unstructured)
	}
	return out, nil
}

// Stats are what a Cache holds.
type Stats struct {
	// Watches is the number of Keys watched.
	Watches int
	// Objects is the number of objects held.
	Objects int
	// Bytes is the size of the objects held, as JSON.
	Bytes int64
}

// Stats returns what the Cache holds. It encodes every object to measure it:
// call it for reports, not on every pass.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	ws := make([]*watcher, 0, len(c.watches))
	for _, w := range c.watches {
		ws = append(ws, w)
	}
	c.mu.Unlock()
	s := Stats{Watches: len(ws)}
	for _, w := range ws {
		for _, item := range w.informer.GetStore().List() {
			b, err := json.Marshal(item)
			if err == nil {
				s.Objects++
				s.Bytes += int64(len(b))
			}
		}
	}
	return s
}

// watch returns the watcher of k once its first list is in, starting it if
// needed. A watch whose first list fails is dropped, so that the next call tries
// again, and the error returned.
func (c *Cache) watch(ctx context.Context, k Key) (*watcher, error) {
	c.mu.Lock()
	w, ok := c.watches[k]
	if !ok {
		w = c.start(k)
		c.watches[k] = w
	}
	c.mu.Unlock()
	select {
	case <-w.synced:
		return w, nil
	default:
	}
	for {
		select {
		case <-w.synced:
			return w, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("watch %s in %q: %w", k.Resource.Resource, k.Namespace, ctx.Err())
		case <-c.ctx.Done():
			return nil, errors.New("live cache stopped")
		case <-w.failed:
			err := w.lastErr()
			c.mu.Lock()
			if c.watches[k] == w {
				delete(c.watches, k)
			}
			c.mu.Unlock()
			w.stop()
			return nil, fmt.Errorf("watch %s in %q: %w", k.Resource.Resource, k.Namespace, err)
		}
	}
}

// start starts the informer of k.
func (c *Cache) start(k Key) *watcher {
	ri := c.client.Resource(k.Resource).Namespace(k.Namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return ri.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return ri.Watch(ctx, opts)
		},
	}
	inf := cache.NewSharedIndexInformer(lw, &unstructured.Unstructured{}, 0, cache.Indexers{})
	ctx, stop := context.WithCancel(c.ctx)
	w := &watcher{informer: inf, stop: stop, synced: make(chan struct{}), failed: make(chan struct{})}
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		w.setErr(err)
		select {
		case <-w.synced: // a watch that worked once: the reflector lists again
		default:
			w.fail.Do(func() { close(w.failed) })
		}
		c.log.V(1).Info("watch failed, retrying", "resource", k.Resource.String(), "namespace", k.Namespace, "error", err.Error())
	})
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) { c.changed(w, obj, initial) },
		UpdateFunc: func(old, obj any) {
			if !statusOnly(old, obj) {
				c.changed(w, obj, false)
			}
		},
		DeleteFunc: func(obj any) { c.changed(w, obj, false) },
	})
	go inf.RunWithContext(ctx)
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			w.setErr(nil)
			close(w.synced)
		}
	}()
	c.log.V(1).Info("watch started", "resource", k.Resource.String(), "namespace", k.Namespace)
	return w
}

// changed tells the subscribers about a change of obj.
func (c *Cache) changed(w *watcher, obj any, initial bool) {
	if initial {
		return
	}
	w.setErr(nil)
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	id := object.IDOf(u)
	c.mu.Lock()
	subs := make([]func(object.ID), 0, len(c.subs))
	for _, fn := range c.subs {
		subs = append(subs, fn)
	}
	c.mu.Unlock()
	for _, fn := range subs {
		fn(id)
	}
}

func (w *watcher) setErr(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

func (w *watcher) lastErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// statusOnly reports whether the update of old to obj changed the status alone,
// and the metadata a write always changes (resourceVersion, managedFields).
func statusOnly(old, obj any) bool {
	a, ok1 := old.(*unstructured.Unstructured)
	b, ok2 := obj.(*unstructured.Unstructured)
	if !ok1 || !ok2 {
		return false
	}
	for k, v := range b.Object {
		if k != "status" && k != "metadata" && !equality.Semantic.DeepEqual(v, a.Object[k]) {
			return false
		}
	}
	for k := range a.Object {
		if _, ok := b.Object[k]; !ok && k != "status" {
			return false
		}
	}
	return a.GetGeneration() == b.GetGeneration() &&
		equality.Semantic.DeepEqual(a.GetLabels(), b.GetLabels()) &&
		equality.Semantic.DeepEqual(a.GetAnnotations(), b.GetAnnotations()) &&
		equality.Semantic.DeepEqual(a.GetOwnerReferences(), b.GetOwnerReferences()) &&
		equality.Semantic.DeepEqual(a.GetFinalizers(), b.GetFinalizers()) &&
		equality.Semantic.DeepEqual(a.GetDeletionTimestamp(), b.GetDeletionTimestamp())
}
