package live

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/go-logr/logr"
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
//
// Only the objects the sets want are held whole: an ID given to
// [Cache.Objects] is wanted from then on, until [Cache.Release]. Every other
// object of a watched Key is held as its metadata (see [Cache.List]), as Argo
// CD's cluster cache keeps the manifest of the resources an application manages
// only: a namespace with ten objects of a set and thousands of Pods or Secrets
// nobody declared costs the ten objects and the thousands' metadata.
type Cache struct {
	client dynamic.Interface
	mapper meta.RESTMapper
	log    logr.Logger

	ctx    context.Context // ends the watches
	cancel context.CancelFunc

	mu      sync.Mutex
	watches map[Key]*watcher
	subs    map[int]subscriber
	nextSub int

	// fullMu guards wanted and every change of an entry's whole copy, so that
	// whether an object is held whole is decided in one place (see held.go).
	fullMu sync.Mutex
	wanted wanted
}

// subscriber is a function of OnChange or OnEveryChange.
type subscriber struct {
	fn     func(object.ID)
	status bool // also called for a change of the status alone
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
		watches: map[Key]*watcher{}, subs: map[int]subscriber{}, wanted: newWanted()}
}

// Stop ends every watch. The Cache answers nothing after it.
func (c *Cache) Stop() { c.cancel() }

// OnChange calls fn with the ID of each object that is added, changed or deleted
// in a watched Key once its first list is in (not for the objects the first list
// finds), from the watch's goroutine. A change of the status alone (a
// controller reporting progress) is not reported: it cannot be drift. Of an
// object held as metadata, whose status cannot be told from the rest, every
// change is reported but one that keeps its metadata and a non-zero
// metadata.generation (for the kinds that count generations, the spec did not
// change). cancel stops the calls.
func (c *Cache) OnChange(fn func(object.ID)) (cancel func()) {
	return c.subscribe(subscriber{fn: fn})
}

// OnEveryChange is [Cache.OnChange] for a change of the status alone too: fn is
// called with the ID of each object added, changed (its status included) or
// deleted in a watched Key once its first list is in, from the watch's
// goroutine. It is what a health wait follows (a controller reporting progress
// is what it waits for). cancel stops the calls.
func (c *Cache) OnEveryChange(fn func(object.ID)) (cancel func()) {
	return c.subscribe(subscriber{fn: fn, status: true})
}

func (c *Cache) subscribe(s subscriber) (cancel func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextSub
	c.nextSub++
	c.subs[id] = s
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

// Objects returns the whole live copies of the objects of ids that exist,
// watching the Keys they belong to from now on, and holds those objects whole
// until [Cache.Release] (the objects nobody wants are held as metadata). An
// object of ids that the Cache held as metadata is read with one GET, the first
// time only: the watch keeps it whole after that. Kinds the cluster does not
// serve have no live copy. The objects are the Cache's: callers must not change
// them.
func (c *Cache) Objects(ctx context.Context, ids []object.ID) (map[object.ID]*unstructured.Unstructured, error) {
	refs := make([]ref, len(ids))
	for i, id := range ids {
		k, ok, err := c.KeyOf(id)
		if err != nil {
			return nil, err
		}
		if ok {
			refs[i] = ref{key: k, name: storeKey(k.Namespace, id.Name)}
		}
	}
	c.fullMu.Lock() // before the watches start, so that their first list keeps ids whole
	for i, r := range refs {
		if r.name != "" {
			c.wanted.add(ids[i], r)
		}
	}
	c.fullMu.Unlock()
	out := make(map[object.ID]*unstructured.Unstructured, len(ids))
	var metaOnly []int // the ids held as metadata
	for i, r := range refs {
		if r.name == "" {
			continue
		}
		w, err := c.watch(ctx, r.key)
		if err != nil {
			return nil, err
		}
		e := w.get(r.name)
		if e == nil {
			continue
		}
		if u := e.full.Load(); u != nil {
			out[ids[i]] = u
		} else {
			metaOnly = append(metaOnly, i)
		}
	}
	if len(metaOnly) > 0 {
		got, err := c.read(ctx, ids, refs, metaOnly)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, got)
	}
	return out, nil
}

// Release says that ids are no longer wanted whole: from now on the Cache holds
// them as metadata, as every object it was not asked for. A set releases the
// objects it stopped declaring; releasing an ID not wanted does nothing.
//
// Wanting is not counted per caller: an object two callers want (two sets that
// declare it, or a set taking it over from another) is held as metadata once
// either releases it, until the other's next Objects reads it whole again, with
// one GET. Objects never returns a copy held as metadata.
func (c *Cache) Release(ids []object.ID) {
	c.fullMu.Lock()
	var gone []ref
	for _, id := range ids {
		if r, last := c.wanted.remove(id); last {
			gone = append(gone, r)
		}
	}
	c.fullMu.Unlock()
	for _, r := range gone {
		c.mu.Lock()
		w := c.watches[r.key]
		c.mu.Unlock()
		if w != nil {
			c.strip(w, r)
		}
	}
}

// List returns the metadata of every object of k, watching it from now on:
// apiVersion, kind, name, namespace, uid, resourceVersion, generation, labels,
// annotations (but kubectl's last-applied-configuration, a copy of the whole
// object), ownerReferences, finalizers and the creation and deletion timestamps.
// The objects are the Cache's: callers must not change them.
func (c *Cache) List(ctx context.Context, k Key) ([]*metav1.PartialObjectMetadata, error) {
	w, err := c.watch(ctx, k)
	if err != nil {
		return nil, err
	}
	items := w.informer.GetStore().List()
	out := make([]*metav1.PartialObjectMetadata, 0, len(items))
	for _, item := range items {
		if e, ok := item.(*entry); ok {
			out = append(out, &e.meta)
		}
	}
	return out, nil
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

// start starts the informer of k. Its store holds an *entry per object (see
// held.go): the transform makes them from what the watch sends.
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
	_ = inf.SetTransform(func(obj any) (any, error) { return c.held(k, obj), nil })
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
		AddFunc: func(obj any, initial bool) {
			c.settle(k, obj)
			c.changed(w, obj, initial, false)
		},
		UpdateFunc: func(old, obj any) {
			c.settle(k, obj)
			c.changed(w, obj, false, statusOnly(old, obj))
		},
		DeleteFunc: func(obj any) { c.changed(w, obj, false, false) },
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

// changed tells the subscribers about a change of obj; of its status alone,
// those of OnEveryChange only.
func (c *Cache) changed(w *watcher, obj any, initial, status bool) {
	if initial {
		return
	}
	w.setErr(nil)
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	e, ok := obj.(*entry)
	if !ok {
		return
	}
	id := e.id()
	c.mu.Lock()
	subs := make([]func(object.ID), 0, len(c.subs))
	for _, s := range c.subs {
		if s.status || !status {
			subs = append(subs, s.fn)
		}
	}
	c.mu.Unlock()
	for _, fn := range subs {
		fn(id)
	}
}

// get returns the entry of the object the store knows by name, nil when none.
func (w *watcher) get(name string) *entry {
	item, exists, err := w.informer.GetStore().GetByKey(name)
	if err != nil || !exists {
		return nil
	}
	e, _ := item.(*entry)
	return e
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
