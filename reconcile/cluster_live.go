package reconcile

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/object"
)

// listPageSize bounds the objects of one list response.
const listPageSize = 500

// readLive returns the live copies of the objects ids names that exist, reading each
// (resource, namespace) pair once with a paged list instead of one GET per object.
// Kinds the cluster does not serve yet (custom resources whose CRD comes in the same
// set) have no live copy.
func readLive(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, ids []object.ID, workers int) (map[object.ID]*unstructured.Unstructured, error) {
	type listKey struct {
		gvr schema.GroupVersionResource
		ns  string
	}
	wanted := map[listKey]map[string]object.ID{}
	for _, id := range ids {
		m, err := mapper.RESTMapping(id.GroupKind())
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: resource type: %w", id, err)
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

	var (
		mu    sync.Mutex
		live  = make(map[object.ID]*unstructured.Unstructured, len(ids))
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, max(workers, 1))
	)
	for k, names := range wanted {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var ri dynamic.ResourceInterface = client.Resource(k.gvr)
			if k.ns != "" {
				ri = client.Resource(k.gvr).Namespace(k.ns)
			}
			opts := metav1.ListOptions{Limit: listPageSize}
			if len(names) == 1 {
				for name := range names {
					opts.FieldSelector = "metadata.name=" + name
				}
			}
			for {
				list, err := ri.List(ctx, opts)
				mu.Lock()
				if err != nil {
					if first == nil {
						first = fmt.Errorf("list %s in %q: %w", k.gvr.Resource, k.ns, err)
					}
					mu.Unlock()
					return
				}
				for i := range list.Items {
					if id, ok := names[list.Items[i].GetName()]; ok {
						live[id] = &list.Items[i]
					}
				}
				mu.Unlock()
				if list.GetContinue() == "" {
					return
				}
				opts.Continue = list.GetContinue()
			}
		}()
	}
	wg.Wait()
	return live, first
}
