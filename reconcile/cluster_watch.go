package reconcile

import (
	"context"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/internal/scope"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
	"github.com/go-logr/logr"
)

// Drifted returns a channel that receives (at most one pending value) when an
// object of the set the last Diff compared, or a member of the inventory, is
// added, changed or deleted in the cluster: a manual edit, a controller's write,
// or this Cluster's own apply. It is nil without ClusterOptions.Live: drift is
// then found by the next pass only. A controller wakes the set's pass on it.
func (c *Cluster) Drifted() <-chan struct{} { return c.drift }

// Close gives back what the Cluster holds in ClusterOptions.Live: the objects
// the cache holds whole for it (see live.Cache.Release) and its subscription to
// the changes; Drifted receives no more. A controller calls it when it drops a
// set for good, and uses the Cluster no more; without Live there is nothing to
// give back.
func (c *Cluster) Close() {
	if c.opts.Live == nil {
		return
	}
	c.unsubscribe()
	c.setWatched(nil)
}

// watchDrift subscribes to the changes of cache.
func (c *Cluster) watchDrift(cache *live.Cache) {
	c.drift = make(chan struct{}, 1)
	c.unsubscribe = cache.OnChange(func(id object.ID) {
		c.mu.Lock()
		watched := c.watched.Has(id)
		c.mu.Unlock()
		if watched {
			select {
			case c.drift <- struct{}{}:
			default:
			}
		}
	})
}

// diffCached is Diff from the Live cache: after the first pass, a pass whose
// desired set, members and live objects did not change sends no request.
func (c *Cluster) diffCached(ctx context.Context, desired []*unstructured.Unstructured, ids []object.ID, sum [32]byte, last lastDiff) (*diff.Plan, error) {
	cache := c.opts.Live
	members, err := c.members(ctx, listedFrom(ctx, cache, c.opts.Logger))
	if err != nil {
		return nil, err
	}
	gone := object.NewSet(members...).Difference(object.NewSet(ids...))
	all := append(slices.Clone(ids), gone...)
	c.setWatched(all)
	objs, err := cache.Objects(ctx, all)
	if err != nil {
		return nil, err
	}
	if last.plan != nil && last.fingerprint == sum && slices.Equal(last.members, members) && sameVersions(objs, last.live) {
		return clonePlan(last.plan), nil
	}
	return c.plan(ctx, desired, objs, members, len(gone) == 0, sum)
}

// applyFromCache makes the apply of desired read the live objects and an
// ApplySet's members from the Live cache instead of listing them, and counts
// the objects of desired among those the Cluster holds whole (its Diff holds
// them already; an Apply without one would not give them back).
func (c *Cluster) applyFromCache(ctx context.Context, desired []*unstructured.Unstructured, aopts *apply.ApplyOptions) error {
	kinds := scope.New(c.mapper, desired)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watched == nil {
		c.watched = object.NewSet()
	}
	for _, u := range desired {
		id, err := kinds.ID(object.IDOf(u))
		if err != nil {
			return err
		}
		c.watched.Add(id)
	}
	aopts.Live = c.opts.Live
	if set, ok := aopts.Inventory.(*apply.ApplySet); ok {
		aopts.Inventory = listedApplySet{set, listedFrom(ctx, c.opts.Live, c.opts.Logger)}
	}
	return nil
}

// listedApplySet is an ApplySet whose Load reads its members off the lists of
// the Live cache.
type listedApplySet struct {
	*apply.ApplySet
	listed apply.Listed
}

// Load implements apply.Inventory with [apply.ApplySet.LoadListed].
func (s listedApplySet) Load(ctx context.Context) ([]object.ID, error) {
	return s.LoadListed(ctx, s.listed)
}

// listedFrom returns the lists of cache, watching what it is asked for from now
// on. A list the cache cannot make is left to the caller to make.
func listedFrom(ctx context.Context, cache *live.Cache, logger logr.Logger) apply.Listed {
	return func(gvr schema.GroupVersionResource, ns string) ([]metav1.Object, bool) {
		objs, err := cache.List(ctx, live.Key{Resource: gvr, Namespace: ns})
		if err != nil {
			logging.From(ctx, logger).V(1).Info("inventory read without the live cache", "resource", gvr.String(), "namespace", ns, "error", err.Error())
			return nil, false
		}
		out := make([]metav1.Object, len(objs))
		for i, o := range objs {
			out[i] = o
		}
		return out, true
	}
}

// setWatched records the objects whose changes are drift: the ones the Live
// cache holds whole for this Cluster. It releases the ones it held before and
// not now, so a long-running controller's cache does not keep whole copies of
// what left its sets. It is called before the Objects that wants ids, so that
// the Cluster knows them even when that call fails.
func (c *Cluster) setWatched(ids []object.ID) {
	next := object.NewSet(ids...)
	c.mu.Lock()
	gone := c.watched.Difference(next)
	c.watched = next
	c.mu.Unlock()
	if len(gone) > 0 {
		c.opts.Live.Release(gone)
	}
}

// sameVersions reports whether a and b hold the same objects at the same
// resourceVersions.
func sameVersions(a, b map[object.ID]*unstructured.Unstructured) bool {
	if len(a) != len(b) {
		return false
	}
	for id, u := range a {
		v, ok := b[id]
		if !ok || v.GetResourceVersion() != u.GetResourceVersion() {
			return false
		}
	}
	return true
}
