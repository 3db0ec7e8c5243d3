package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
)

// How an object is held. The informer of each Key stores one *entry per object
// and resourceVersion, made by its transform from what the watch sends: the
// object's metadata always (what List returns), and the whole object while it is
// wanted. Whole copies come from the watch, or from a GET at the very
// resourceVersion of the entry it fills, so a whole copy is never older than
// the entry's metadata. Every change of an entry's whole copy is made under
// Cache.fullMu with a look at wanted, in these places:
//
//   - the transform keeps the object whole when it is wanted (held);
//   - the handler of each add and update drops the whole copy of an object
//     released between the transform and the store (settle);
//   - Release drops the whole copy held in the store (strip);
//   - Objects fills the entry of an object it read with a GET (read).
//
// So an object released is held as metadata once Release returns, but for one
// left whole when a relist lands an unchanged copy (which no handler sees) in
// the moment between a Release and its strip; its next change strips it.
//
// Each Key has one watch of whole objects, whatever is wanted in it, as Argo
// CD's cluster cache does. A metadata-only watch (kube.Clients.Metadata) of the
// Keys where nothing is wanted would hold the same metadata and save only the
// transfer and decoding of the other objects, while the first object wanted in
// such a Key would need a second watch or a relist, or a GET on each change.

// entry is what the store holds of one object at one resourceVersion.
type entry struct {
	meta metav1.PartialObjectMetadata
	full atomic.Pointer[unstructured.Unstructured] // nil unless wanted
}

// GetObjectMeta lets client-go's key functions read an entry (meta.Accessor).
func (e *entry) GetObjectMeta() metav1.Object { return &e.meta.ObjectMeta }

// id returns the ID of e's object.
func (e *entry) id() object.ID {
	gv, _ := schema.ParseGroupVersion(e.meta.APIVersion)
	return object.ID{Group: gv.Group, Kind: e.meta.Kind, Namespace: e.meta.Namespace, Name: e.meta.Name}
}

// lastApplied is the annotation kubectl's client-side apply keeps a copy of the
// whole object in: metadata held for List must not cost the object's size.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// metadataOf returns the metadata of u that List returns, sharing nothing with u.
func metadataOf(u *unstructured.Unstructured) metav1.PartialObjectMetadata {
	annotations := u.GetAnnotations()
	delete(annotations, lastApplied)
	if len(annotations) == 0 {
		annotations = nil
	}
	return metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()},
		ObjectMeta: metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(),
			ResourceVersion: u.GetResourceVersion(), Generation: u.GetGeneration(),
			CreationTimestamp: u.GetCreationTimestamp(), DeletionTimestamp: u.GetDeletionTimestamp(),
			Labels: u.GetLabels(), Annotations: annotations,
			OwnerReferences: u.GetOwnerReferences(), Finalizers: u.GetFinalizers(),
		},
	}
}

// ref names where a wanted object is held: its Key and its name in the store.
type ref struct {
	key  Key
	name string // namespace/name, or name when cluster-scoped ("" for no Key)
}

// storeKey is the name of an object in a store, as cache.MetaNamespaceKeyFunc
// makes it.
func storeKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// wanted are the objects held whole, by ID and by where they are held (two IDs
// may name one object: a namespace given to a cluster-scoped kind).
type wanted struct {
	ids   map[object.ID]ref
	count map[ref]int
}

func newWanted() wanted {
	return wanted{ids: map[object.ID]ref{}, count: map[ref]int{}}
}

func (w wanted) add(id object.ID, r ref) {
	if old, ok := w.ids[id]; ok {
		if old == r {
			return
		}
		w.remove(id) // its kind moved to another resource
	}
	w.ids[id] = r
	w.count[r]++
}

// remove forgets id, and returns where it was held and whether nothing else
// wants that object.
func (w wanted) remove(id object.ID) (ref, bool) {
	r, ok := w.ids[id]
	if !ok {
		return ref{}, false
	}
	delete(w.ids, id)
	if w.count[r]--; w.count[r] > 0 {
		return r, false
	}
	delete(w.count, r)
	return r, true
}

func (w wanted) has(r ref) bool { return w.count[r] > 0 }

// held is the transform of k's informer: the entry of obj, whole when wanted.
func (c *Cache) held(k Key, obj any) any {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj // an entry already, or a tombstone
	}
	e := &entry{meta: metadataOf(u)}
	c.fullMu.Lock()
	if c.wanted.has(ref{key: k, name: storeKey(u.GetNamespace(), u.GetName())}) {
		e.full.Store(u)
	}
	c.fullMu.Unlock()
	return e
}

// settle drops the whole copy of obj, just stored, when it is no longer wanted.
func (c *Cache) settle(k Key, obj any) {
	e, ok := obj.(*entry)
	if !ok || e.full.Load() == nil {
		return
	}
	c.fullMu.Lock()
	if !c.wanted.has(ref{key: k, name: storeKey(e.meta.Namespace, e.meta.Name)}) {
		e.full.Store(nil)
	}
	c.fullMu.Unlock()
}

// strip drops the whole copy of the object r names from w's store, unless it is
// wanted again.
func (c *Cache) strip(w *watcher, r ref) {
	c.fullMu.Lock()
	defer c.fullMu.Unlock()
	if e := w.get(r.name); e != nil && !c.wanted.has(r) {
		e.full.Store(nil)
	}
}

// read GETs the objects of ids at the indexes in which, held as metadata, and
// fills their entries with them when the store still holds the same
// resourceVersion and they are still wanted. A newer copy than the store's is
// returned but not kept: the watch brings it, whole since it is wanted.
func (c *Cache) read(ctx context.Context, ids []object.ID, refs []ref, which []int) (map[object.ID]*unstructured.Unstructured, error) {
	got := make([]*unstructured.Unstructured, len(which))
	errs := make([]error, len(which))
	parallel.Do(ctx, parallel.DefaultLimit, len(which), func(j int) {
		id, r := ids[which[j]], refs[which[j]]
		u, err := c.client.Resource(r.key.Resource).Namespace(r.key.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err): // deleted: the watch has not said so yet
		case err != nil:
			errs[j] = fmt.Errorf("get %s: %w", id.KubectlString(), err)
		default:
			got[j] = u
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	watches := maps.Clone(c.watches)
	c.mu.Unlock()
	out := make(map[object.ID]*unstructured.Unstructured, len(which))
	c.fullMu.Lock()
	defer c.fullMu.Unlock()
	for j, u := range got {
		if u == nil {
			continue
		}
		id, r := ids[which[j]], refs[which[j]]
		out[id] = u
		if w := watches[r.key]; w != nil && c.wanted.has(r) {
			if e := w.get(r.name); e != nil && e.full.Load() == nil &&
				e.meta.UID == u.GetUID() && e.meta.ResourceVersion == u.GetResourceVersion() {
				e.full.Store(u)
			}
		}
	}
	return out, nil
}

// statusOnly reports whether the update of old to obj changed the status alone,
// and the metadata a write always changes (resourceVersion, managedFields). When
// either is held as metadata, it can tell only by metadata.generation, which the
// kinds that count generations raise on each change but of the status.
func statusOnly(old, obj any) bool {
	ea, ok1 := old.(*entry)
	eb, ok2 := obj.(*entry)
	if !ok1 || !ok2 {
		return false
	}
	ma, mb := &ea.meta, &eb.meta
	sameMeta := ma.Generation == mb.Generation &&
		equality.Semantic.DeepEqual(ma.Labels, mb.Labels) &&
		equality.Semantic.DeepEqual(ma.Annotations, mb.Annotations) &&
		equality.Semantic.DeepEqual(ma.OwnerReferences, mb.OwnerReferences) &&
		equality.Semantic.DeepEqual(ma.Finalizers, mb.Finalizers) &&
		equality.Semantic.DeepEqual(ma.DeletionTimestamp, mb.DeletionTimestamp)
	a, b := ea.full.Load(), eb.full.Load()
	if a == nil || b == nil {
		return sameMeta && mb.Generation != 0
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
	// The metadata compared is the one held, without the last-applied annotation.
	return sameMeta && a.GetAnnotations()[lastApplied] == b.GetAnnotations()[lastApplied]
}

// Stats are what a Cache holds.
type Stats struct {
	// Watches is the number of Keys watched.
	Watches int
	// Objects is the number of objects held: Full + Metadata.
	Objects int
	// Bytes is the size of the objects held, as JSON: FullBytes + MetadataBytes.
	Bytes int64
	// Full is the number of objects held whole: the ones wanted (see
	// Cache.Objects). FullBytes is their size, with the metadata List returns of
	// each.
	Full      int
	FullBytes int64
	// Metadata is the number of objects held as metadata only: the ones no caller
	// wants. MetadataBytes is their size.
	Metadata      int
	MetadataBytes int64
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
			e, ok := item.(*entry)
			if !ok {
				continue
			}
			n := jsonSize(&e.meta)
			if u := e.full.Load(); u != nil {
				s.Full++
				s.FullBytes += n + jsonSize(u)
			} else {
				s.Metadata++
				s.MetadataBytes += n
			}
		}
	}
	s.Objects, s.Bytes = s.Full+s.Metadata, s.FullBytes+s.MetadataBytes
	return s
}

// jsonSize returns the length of v as JSON, 0 when it cannot be encoded.
func jsonSize(v any) int64 {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return int64(len(b))
}
