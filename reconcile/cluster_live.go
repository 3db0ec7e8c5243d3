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
// listKey names a list of one resource in one namespace ("" when cluster-scoped).
type listKey struct {
	gvr schema.GroupVersionResource
	ns  string
}

// readLive also returns the complete lists it made (every object of a resource in
// a namespace, not only the wanted ones), from which the inventory can read its
// members without listing them again.
func readLive(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, ids []object.ID, workers int) (map[object.ID]*unstructured.Unstructured, map[listKey][]*unstructured.Unstructured, error) {
	wanted := map[listKey]map[string]object.ID{}
	for _, id := range ids {
		m, err := mapper.RESTMapping(id.GroupKind())
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: resource type: %w", id, err)
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
		full  = map[listKey][]*unstructured.Unstructured{}
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
			complete := len(names) != 1
			if !complete {
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
					if complete {
						full[k] = append(full[k], &list.Items[i])
					}
				}
				if complete && full[k] == nil {
					full[k] = []*unstructured.Unstructured{} // listed, and empty
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
	if first != nil {
		return live, nil, first
	}
	return live, full, nil
}
