package health

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gitopskit/gitopskit/object"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Live is a cluster's live objects kept by watches that others share, such as
// live.Cache: a [Waiter] with [WaiterOptions.Live] reads and follows the objects
// there instead of opening list+watches of its own.
type Live interface {
	// Objects returns the live copies of the objects of ids that exist; kinds the
	// cluster does not serve have none. The copies must not be changed.
	Objects(ctx context.Context, ids []object.ID) (map[object.ID]*unstructured.Unstructured, error)
	// OnEveryChange calls fn with the ID of each object added, changed (its status
	// included) or deleted, until cancel is called.
	OnEveryChange(fn func(object.ID)) (cancel func())
}

// liveRetry is the pause before reading again objects whose read failed.
const liveRetry = time.Second

// follow feeds out with the statuses of ids read from w.live, then with those of
// each change it reports, until ctx ends. It returns the Missing updates of kinds
// the cluster does not serve, as scopes does.
func (w *Waiter) follow(ctx context.Context, ids []object.ID, out chan<- update, wg *sync.WaitGroup) ([]update, error) {
	trackers := map[object.ID]*tracker{} // of each followed id, by its key
	keys := map[object.ID]object.ID{}    // followed key of each id
	var missing []update
	byKind := map[[2]string]*tracker{} // nil for a kind the cluster does not serve
	clusterScoped := map[[2]string]bool{}
	var all []*tracker
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		gk := [2]string{id.Group, id.Kind}
		t, ok := byKind[gk]
		if !ok {
			mapping, err := w.mapper.RESTMapping(id.GroupKind())
			if err != nil && !meta.IsNoMatchError(err) {
				return nil, fmt.Errorf("resource type of %s: %w", id.GroupKind(), err)
			}
			if err == nil {
				t = &tracker{ctx: ctx, assessor: w.assessor, hint: w.statusHint(ctx, mapping), out: out, timers: map[object.ID]*time.Timer{}}
				all = append(all, t)
				clusterScoped[gk] = mapping.Scope.Name() != meta.RESTScopeNameNamespace
			}
			byKind[gk] = t
		}
		if t == nil {
			missing = append(missing, unserved(id))
			continue
		}
		key := id // as the changes name it
		if clusterScoped[gk] {
			key.Namespace = ""
		}
		trackers[key], keys[id] = t, key
	}
	if len(trackers) == 0 {
		return missing, nil
	}

	var mu sync.Mutex
	pending := map[object.ID]bool{}
	wake := make(chan struct{}, 1)
	cancel := w.live.OnEveryChange(func(id object.ID) {
		if trackers[id] == nil {
			return
		}
		mu.Lock()
		pending[id] = true
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	wg.Go(func() {
		defer cancel()
		defer func() {
			for _, t := range all {
				t.close()
			}
		}()
		read, gone := ids, "not found"
		for {
			w.read(ctx, read, keys, trackers, gone)
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			read = make([]object.ID, 0, len(pending))
			for _, id := range ids {
				if pending[keys[id]] {
					read = append(read, id)
				}
			}
			clear(pending)
			mu.Unlock()
			gone = "deleted"
		}
	})
	return missing, nil
}

// read reads ids from w.live and has their trackers observe them; an object
// that does not exist is Missing with the message gone. A failed read is
// reported on the objects and tried again after liveRetry.
func (w *Waiter) read(ctx context.Context, ids []object.ID, keys map[object.ID]object.ID, trackers map[object.ID]*tracker, gone string) {
	var want []object.ID
	for _, id := range ids {
		if _, ok := keys[id]; ok {
			want = append(want, id)
		}
	}
	for len(want) > 0 {
		got, err := w.live.Objects(ctx, want)
		if err == nil {
			for _, id := range want {
				t := trackers[keys[id]]
				if u := got[id]; u != nil {
					t.observe(id, u)
				} else {
					t.gone(id, gone)
				}
			}
			return
		}
		for _, id := range want {
			trackers[keys[id]].set(id, status(Unknown, "read failed: "+err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(liveRetry):
		}
	}
}
