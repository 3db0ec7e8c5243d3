package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
)

// listPageSize bounds the objects of one list response.
const listPageSize = 500

// listKey names a list of one resource in one namespace ("" when cluster-scoped).
type listKey struct {
	gvr schema.GroupVersionResource
	ns  string
}

// wantedLists groups ids by the list that reads them, by name. Kinds the cluster
// does not serve yet (custom resources whose CRD comes in the same set) are left
// out: they have no live copy.
func wantedLists(mapper meta.RESTMapper, ids []object.ID) (map[listKey]map[string]object.ID, error) {
	wanted := map[listKey]map[string]object.ID{}
	for _, id := range ids {
		m, err := mapper.RESTMapping(id.GroupKind())
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: resource type: %w", id.KubectlString(), err)
		}
		k := listKey{gvr: m.Resource}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			k.ns = id.Namespace
		}
		if wanted[k] == nil {
			wanted[k] = map[string]object.ID{}
		}
		wanted[k][id.Name] = id
	}
	return wanted, nil
}

// liveMeta is what a read of a set's objects found, in full or as metadata only.
type liveMeta struct {
	// versions has the resourceVersion of every object of the set that exists.
	versions map[object.ID]string
	// lists has the complete lists made (every object of a resource in a
	// namespace), from which the inventory reads its members.
	lists map[listKey][]metav1.Object
}

// readLists lists every key of wanted, page by page, at most workers at a time,
// and returns the versions and complete lists it found. A key with a single wanted
// name is listed with a field selector on that name, not completely. found, when
// set, receives each wanted object (under a lock).
func readLists[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, wanted map[listKey]map[string]object.ID, workers int,
	list func(k listKey, opts metav1.ListOptions) ([]T, string, error),
	found func(id object.ID, o PT)) (*liveMeta, error) {
	out := &liveMeta{versions: map[object.ID]string{}, lists: map[listKey][]metav1.Object{}}
	var (
		mu    sync.Mutex
		first error
	)
	keys := slices.Collect(maps.Keys(wanted))
	parallel.Do(ctx, workers, len(keys), func(i int) {
		k := keys[i]
		names := wanted[k]
		opts := metav1.ListOptions{Limit: listPageSize}
		complete := len(names) != 1
		if !complete {
			for name := range names {
				opts.FieldSelector = "metadata.name=" + name
			}
		}
		for {
			items, next, err := list(k, opts)
			mu.Lock()
			if err != nil {
				if first == nil {
					// The objects the list was for: an error such as Forbidden
					// names only the resource type.
					first = fmt.Errorf("list %s in %q for %s: %w", k.gvr.Resource, k.ns, someIDs(names), err)
				}
				mu.Unlock()
				return
			}
			for i := range items {
				o := PT(&items[i])
				if id, ok := names[o.GetName()]; ok {
					out.versions[id] = o.GetResourceVersion()
					if found != nil {
						found(id, o)
					}
				}
				if complete {
					out.lists[k] = append(out.lists[k], o)
				}
			}
			if complete && out.lists[k] == nil {
				out.lists[k] = []metav1.Object{} // listed, and empty
			}
			mu.Unlock()
			if next == "" {
				return
			}
			opts.Continue = next
		}
	})
	if first == nil {
		first = ctx.Err() // lists not started
	}
	return out, first
}

// readLive returns the live copies of the objects ids names that exist, reading each
// (resource, namespace) pair once with a paged list instead of one GET per object,
// and what the lists found.
func readLive(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, ids []object.ID, workers int) (map[object.ID]*unstructured.Unstructured, *liveMeta, error) {
	wanted, err := wantedLists(mapper, ids)
	if err != nil {
		return nil, nil, err
	}
	live := make(map[object.ID]*unstructured.Unstructured, len(ids))
	lm, err := readLists(ctx, wanted, workers,
		func(k listKey, opts metav1.ListOptions) ([]unstructured.Unstructured, string, error) {
			l, err := client.Resource(k.gvr).Namespace(k.ns).List(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.GetContinue(), nil
		},
		func(id object.ID, u *unstructured.Unstructured) {
			cp := *u // not a pointer into the page, which would keep every object listed
			live[id] = &cp
		})
	return live, lm, err
}

// readMeta lists the metadata of the objects ids names (protobuf, no spec or
// status), with the lists grouped as readLive groups them.
func readMeta(ctx context.Context, client metadata.Interface, mapper meta.RESTMapper, ids []object.ID, workers int) (*liveMeta, error) {
	wanted, err := wantedLists(mapper, ids)
	if err != nil {
		return nil, err
	}
	return readLists(ctx, wanted, workers,
		func(k listKey, opts metav1.ListOptions) ([]metav1.PartialObjectMetadata, string, error) {
			l, err := client.Resource(k.gvr).Namespace(k.ns).List(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}, nil)
}

// someIDs names the first three objects of names, in order, and counts the rest.
func someIDs(names map[string]object.ID) string {
	ids := slices.SortedFunc(maps.Values(names), object.Compare)
	out := make([]string, 0, 3)
	for _, id := range ids[:min(len(ids), 3)] {
		out = append(out, id.String())
	}
	s := strings.Join(out, ", ")
	if len(ids) > 3 {
		s += fmt.Sprintf(" and %d more", len(ids)-3)
	}
	return s
}
