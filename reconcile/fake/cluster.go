package fake

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
)

// Cluster is an in-memory cluster implementing reconcile's Differ, Applier and
// HealthChecker. Objects compare by their whole content; the inventory is the set of
// objects applied through it. It is safe for concurrent use.
type Cluster struct {
	mu        sync.Mutex
	objects   map[object.ID]*unstructured.Unstructured
	inventory object.Set
	health    map[object.ID]health.Status
	applyErr  map[object.ID]error
	diffErr   error
	calls     []string
}

var (
	_ reconcile.Differ        = (*Cluster)(nil)
	_ reconcile.Applier       = (*Cluster)(nil)
	_ reconcile.HealthChecker = (*Cluster)(nil)
)

// NewCluster returns an empty cluster.
func NewCluster() *Cluster {
	return &Cluster{
		objects:   map[object.ID]*unstructured.Unstructured{},
		inventory: object.NewSet(),
		health:    map[object.ID]health.Status{},
		applyErr:  map[object.ID]error{},
	}
}

// Get returns a copy of the object id, or nil.
func (c *Cluster) Get(id object.ID) *unstructured.Unstructured {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.objects[id]; u != nil {
		return u.DeepCopy()
	}
	return nil
}

// IDs returns the objects in the cluster, sorted.
func (c *Cluster) IDs() []object.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.SortedFunc(maps.Keys(c.objects), object.Compare)
}

// Edit stores u as someone other than the reconciler would: drift.
func (c *Cluster) Edit(u *unstructured.Unstructured) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.objects[object.IDOf(u)] = u.DeepCopy()
}

// Remove deletes an object as someone other than the reconciler would.
func (c *Cluster) Remove(id object.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.objects, id)
}

// SetHealth sets the health of id; objects without one are Healthy.
func (c *Cluster) SetHealth(id object.ID, s health.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.health[id] = s
}

// FailApply makes applying id fail with err (nil to stop failing).
func (c *Cluster) FailApply(id object.ID, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		delete(c.applyErr, id)
		return
	}
	c.applyErr[id] = err
}

// FailDiff makes Diff fail with err (nil to stop failing).
func (c *Cluster) FailDiff(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.diffErr = err
}

// Calls returns the stage methods called so far, in order: "diff", "apply",
// "prune", "health" and "wait" (health with waiting).
func (c *Cluster) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Diff compares desired with the stored objects.
func (c *Cluster) Diff(_ context.Context, desired []*unstructured.Unstructured) (*diff.Plan, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "diff")
	if c.diffErr != nil {
		return nil, c.diffErr
	}
	var changes []*diff.Change
	declared := object.NewSet()
	for _, u := range desired {
		id := object.IDOf(u)
		declared.Add(id)
		ch := &diff.Change{ID: id, Action: diff.None}
		switch live := c.objects[id]; {
		case live == nil:
			ch.Action = diff.Create
		case !equality.Semantic.DeepEqual(live.Object, u.Object):
			ch.Action = diff.Update
			ch.Paths = differentKeys(live.Object, u.Object)
		}
		changes = append(changes, ch)
	}
	for _, id := range c.inventory.Difference(declared) {
		if c.objects[id] != nil {
			changes = append(changes, &diff.Change{ID: id, Action: diff.Delete})
		}
	}
	return diff.NewPlan(changes, nil), nil
}

// differentKeys returns the top-level fields that differ, as ".name".
func differentKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] && !equality.Semantic.DeepEqual(a[k], b[k]) {
				out = append(out, "."+k)
			}
			seen[k] = true
		}
	}
	slices.Sort(out)
	return out
}

// Apply stores every desired object that differs, or reports what it would do in a
// dry run. Objects with an injected failure fail; the others are still applied.
func (c *Cluster) Apply(_ context.Context, desired []*unstructured.Unstructured, opts reconcile.ApplyOptions) ([]apply.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "apply")
	var out []apply.Event
	var errs []error
	for _, u := range desired {
		id := object.IDOf(u)
		r := apply.Event{ID: id, DryRun: opts.DryRun}
		live := c.objects[id]
		switch {
		case c.applyErr[id] != nil:
			r.Action, r.Err = apply.Failed, c.applyErr[id]
			errs = append(errs, c.applyErr[id])
		case live == nil:
			r.Action = apply.Created
		case equality.Semantic.DeepEqual(live.Object, u.Object):
			r.Action = apply.Unchanged
		default:
			r.Action = apply.Configured
		}
		if !opts.DryRun && r.Action != apply.Failed {
			c.objects[id] = u.DeepCopy()
			c.inventory.Add(id)
		}
		out = append(out, r)
		if opts.OnEvent != nil {
			opts.OnEvent(r)
		}
	}
	return out, errors.Join(errs...)
}

// Prune deletes the inventory's members that desired does not declare.
func (c *Cluster) Prune(_ context.Context, desired []*unstructured.Unstructured, opts reconcile.ApplyOptions) ([]apply.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, "prune")
	declared := object.NewSet()
	for _, u := range desired {
		declared.Add(object.IDOf(u))
	}
	if len(declared) == 0 && !opts.AllowEmpty {
		return nil, reconcile.ErrEmptySet
	}
	var out []apply.Event
	for _, id := range c.inventory.Difference(declared) {
		r := apply.Event{ID: id, Action: apply.Pruned, DryRun: opts.DryRun}
		if !opts.DryRun {
			delete(c.objects, id)
			delete(c.inventory, id)
		}
		out = append(out, r)
		if opts.OnEvent != nil {
			opts.OnEvent(r)
		}
	}
	return out, nil
}

// Health returns the health set with SetHealth, Healthy by default, and Missing for
// objects not in the cluster.
func (c *Cluster) Health(_ context.Context, ids []object.ID) (map[object.ID]health.Status, error) {
	return c.statuses(ids, false, nil)
}

// Wait returns what Health does, reporting each status through progress, and
// fails when an object is not done.
func (c *Cluster) Wait(_ context.Context, ids []object.ID, progress func(object.ID, health.Status)) (map[object.ID]health.Status, error) {
	return c.statuses(ids, true, progress)
}

func (c *Cluster) statuses(ids []object.ID, wait bool, progress func(object.ID, health.Status)) (map[object.ID]health.Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wait {
		c.calls = append(c.calls, "wait")
	} else {
		c.calls = append(c.calls, "health")
	}
	out := make(map[object.ID]health.Status, len(ids))
	var errs []error
	for _, id := range ids {
		s, ok := c.health[id]
		switch {
		case c.objects[id] == nil:
			s = health.Status{Code: health.Missing, Message: "not found"}
		case !ok:
			s = health.Status{Code: health.Healthy}
		}
		out[id] = s
		if progress != nil {
			progress(id, s)
		}
		if wait && !s.Code.Done() {
			errs = append(errs, errors.New(id.String()+": "+s.String()))
		}
	}
	return out, errors.Join(errs...)
}
