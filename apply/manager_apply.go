package apply

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/internal/scope"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// run is the state of one Apply.
type run struct {
	m      *Manager
	opts   ApplyOptions
	live   *liveCache
	mu     sync.Mutex
	result Result
	// crdKinds are the group/kinds that CRDs of the set define.
	crdKinds map[[2]string]bool
	// hooks are the set's hooks, with ApplyOptions.Hooks.
	hooks   *hooks
	desired object.Set
	// creates are the namespaces a dry run with CreateNamespace would create.
	creates map[string]bool
	// going is what the prune deleted; kinds the namespaced resource types,
	// discovered when a Namespace is about to be pruned.
	going going
	kinds struct {
		once sync.Once
		list []residentKind
		err  error
	}
}

func (r *run) warn(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.result.Warnings = append(r.result.Warnings, msg)
}

func (r *run) emit(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.result.Events = append(r.result.Events, ev)
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(ev)
	}
}

// Apply applies objs in order (see [Order]) with server-side apply and, with an
// inventory, records them and prunes the members that left the set.
//
// Objects of a batch are applied concurrently; after a batch with
// CustomResourceDefinitions, Apply waits until they are Established and resets the
// RESTMapper. When an object fails, the rest of its batch completes, later batches
// are skipped, nothing is pruned, and the error (joined over all failures, with
// typed errors such as [*ConflictError] and [*ImmutableError] inside) is returned
// together with the result so far. objs are not modified. With
// [ApplyOptions.Hooks], the hooks of objs run around the apply (see hooks.go).
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) (_ *Result, err error) {
	r := &run{m: m, opts: opts, live: newLiveCache(), crdKinds: map[[2]string]bool{}, creates: map[string]bool{}}
	if objs, err = r.splitHooks(objs); err != nil {
		return &r.result, err
	}
	defer func() { err = r.hooks.finish(ctx, err) }()
	// Identities as the API server has them: a cluster-scoped object declared with
	// a namespace must match its live copy and its inventory entry, or prune would
	// delete it on every other apply.
	items, err := newItems(objs, scope.New(m.mapper, objs).ID)
	if err != nil {
		return &r.result, err
	}
	batches, err := order(items, r.hooks.waveFirst())
	if err != nil {
		return &r.result, err
	}
	inv := opts.Inventory
	if inv != nil && len(items) == 0 && !opts.AllowEmpty {
		return &r.result, ErrEmptySet
	}
	desired := object.NewSet()
	r.desired = desired
	for _, it := range items {
		desired.Add(it.id)
		if it.stage == StageCRDs {
			group, _, _ := unstructured.NestedString(it.obj.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(it.obj.Object, "spec", "names", "kind")
			r.crdKinds[[2]string{group, kind}] = true
		}
	}
	if err := r.createNamespaces(ctx, append(r.hooks.namespaceItems(), items...)); err != nil { // with CreateNamespace, or for an object
		return &r.result, err
	}
	var previous []object.ID
	tracked := true
	if inv != nil {
		if previous, err = inv.Load(ctx); err != nil {
			return &r.result, fmt.Errorf("load inventory: %w", err)
		}
	}
	if err := r.hooks.begin(ctx, previous, len(items)); err != nil {
		return &r.result, err
	}
	if inv != nil && !opts.DryRun {
		tracked, err = r.storeSuperset(ctx, previous, desired, false)
		if err != nil {
			return &r.result, err
		}
	}
	for i, batch := range batches {
		if !tracked && batch[0].stage > StageNamespaces {
			if _, err := r.storeSuperset(ctx, previous, desired, true); err != nil {
				return &r.result, err
			}
			tracked = true
		}
		notRun := batches[i+1:]
		err := r.hooks.syncBefore(ctx, batch[0].dir.Wave)
		if err == nil {
			err = r.applyBatch(ctx, batch)
		} else {
			notRun = batches[i:]
		}
		if err != nil {
			for _, rest := range notRun {
				for _, it := range rest {
					r.emit(Event{ID: it.id, Action: Skipped, Stage: it.stage, Wave: it.dir.Wave, DryRun: opts.DryRun,
						Reason: "not applied: an earlier object or hook failed"})
				}
			}
			return &r.result, err
		}
		if err := r.settleCRDs(ctx, batch); err != nil {
			return &r.result, err
		}
		if opts.WaveGate != nil && !opts.DryRun && i < len(batches)-1 {
			ids := make([]object.ID, len(batch))
			for j, it := range batch {
				ids[j] = it.id
			}
			if err := opts.WaveGate(ctx, ids); err != nil {
				return &r.result, fmt.Errorf("wave gate after %s wave %d: %w", batch[0].stage, batch[0].dir.Wave, err)
			}
		}
	}
	if err := r.hooks.syncBefore(ctx, math.MaxInt); err != nil {
		return &r.result, err
	}
	if inv == nil {
		return &r.result, nil
	}
	members := object.NewSet(desired.Sorted()...)
	if opts.Prune {
		kept, err := r.prune(ctx, previous, desired)
		if err != nil {
			return &r.result, err
		}
		members.Add(kept...)
	} else {
		members.Add(previous...)
	}
	if !opts.DryRun {
		if err := inv.Store(ctx, members.Sorted()); err != nil {
			return &r.result, fmt.Errorf("store inventory: %w", err)
		}
	}
	return &r.result, nil
}

// storeSuperset records previous and desired members before anything is written, so
// an interrupted apply leaves no object the inventory does not know. When the
// inventory's namespace is created by this set, the first try fails with NotFound:
// with retry false that is reported as not yet tracked, to be retried after the
// namespaces are applied.
func (r *run) storeSuperset(ctx context.Context, previous []object.ID, desired object.Set, retry bool) (bool, error) {
	all := object.NewSet(previous...)
	for id := range desired {
		all.Add(id)
	}
	err := r.opts.Inventory.Store(ctx, all.Sorted())
	if err != nil && !retry && apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		if p, ok := r.opts.Inventory.(parented); ok {
			err = r.missingNamespace(err, p.Parent().Namespace, p.Parent())
		}
		return false, fmt.Errorf("store inventory: %w", err)
	}
	return true, nil
}

// applyBatch applies the items of one batch concurrently and returns the joined
// errors of those that failed.
func (r *run) applyBatch(ctx context.Context, batch []item) error {
	tasks := make([]*task, 0, len(batch))
	var errs []error
	for _, it := range batch {
		t, err := r.newTask(it)
		if err != nil {
			if r.opts.DryRun && r.crdKinds[[2]string{it.id.Group, it.id.Kind}] {
				r.emit(Event{ID: it.id, Action: Skipped, Stage: it.stage, Wave: it.dir.Wave, DryRun: true,
					Reason: "its CustomResourceDefinition is not established yet (dry run)"})
				continue
			}
			if r.opts.DryRun && it.dir.SkipDryRunOnMissingResource && meta.IsNoMatchError(err) {
				r.emit(Event{ID: it.id, Action: Skipped, Stage: it.stage, Wave: it.dir.Wave, DryRun: true,
					Reason: "the cluster does not serve its kind (SkipDryRunOnMissingResource=true, dry run)"})
				continue
			}
			r.emit(Event{ID: it.id, Action: Failed, Stage: it.stage, Wave: it.dir.Wave, DryRun: r.opts.DryRun, Err: err, Reason: err.Error()})
			errs = append(errs, err)
			continue
		}
		tasks = append(tasks, t)
	}
	r.readLive(ctx, tasks)
	var keys []listKey
	for _, t := range tasks {
		if _, known := r.live.get(t); !known && !(r.opts.Live != nil && t.readsItself()) {
			keys = append(keys, t.listKey())
		}
	}
	missing := r.live.missing(keys)
	parallel.Do(ctx, r.m.opts.Concurrency, len(missing), func(i int) {
		if err := r.live.load(ctx, r.m.client, missing[i]); err != nil {
			logging.From(ctx, r.m.opts.Logger).V(1).Info("list failed; applying without comparing", "resource", missing[i].gvr, "namespace", missing[i].namespace, "error", err)
			r.warn(fmt.Sprintf("list %s in namespace %q failed, so its objects were applied without comparing: %v",
				missing[i].gvr.String(), missing[i].namespace, err))
		}
	})
	var mu sync.Mutex
	parallel.Do(ctx, r.m.opts.Concurrency, len(tasks), func(i int) {
		ev := r.applyObject(ctx, tasks[i])
		if ev.Action == Failed && r.opts.DryRun && r.dryRunNamespacePending(tasks[i], ev.Err) {
			ev.Action, ev.Err, ev.Reason = Skipped, nil, "its namespace is created by this set (dry run)"
		}
		if ev.Action == Failed {
			ev.Err = r.missingNamespace(ev.Err, tasks[i].desired.GetNamespace(), tasks[i].id)
			ev.Reason = ev.Err.Error()
		}
		r.emit(ev)
		if ev.Err != nil {
			mu.Lock()
			errs = append(errs, ev.Err)
			mu.Unlock()
		}
	})
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// readLive reads the live copies of tasks from ApplyOptions.Live, if set. When it
// fails, their lists are read instead.
func (r *run) readLive(ctx context.Context, tasks []*task) {
	if r.opts.Live == nil {
		return
	}
	ids := make([]object.ID, 0, len(tasks))
	for _, t := range tasks {
		if !t.readsItself() {
			ids = append(ids, t.id)
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := r.live.read(ctx, r.opts.Live, ids); err != nil {
		logging.From(ctx, r.m.opts.Logger).V(1).Info("live objects read failed; listing them", "error", err.Error())
	}
}

// readsItself reports whether, with ApplyOptions.Live, t's object is read with
// a GET of its own: one created only if it is not present, or replaced (which
// needs its current resourceVersion), is not judged by a cached copy that may
// lag behind.
func (t *task) readsItself() bool {
	return t.dir.SSA == SSAIfNotPresent || t.dir.Replace
}

// dryRunNamespacePending reports whether a dry run failed only because the object's
// namespace, part of the set or created for it (CreateNamespace), does not exist yet.
func (r *run) dryRunNamespacePending(t *task, err error) bool {
	ns := t.desired.GetNamespace()
	return ssa.NamespacePending(err, ns, r.desired) || (r.creates[ns] && ssa.IsNamespaceNotFound(err, ns))
}

// newTask maps an item to its resource and copies it with the inventory's labels.
func (r *run) newTask(it item) (*task, error) {
	gvk := it.obj.GroupVersionKind()
	mapping, err := r.m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", it.id.KubectlString(), err)
	}
	desired := it.obj.DeepCopy()
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		desired.SetNamespace("")
	}
	res, err := ssa.Resource(r.m.client, mapping, desired)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", it.id.KubectlString(), err)
	}
	if r.opts.Inventory != nil {
		labels := desired.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		for k, v := range r.opts.Inventory.Labels() {
			labels[k] = v
		}
		desired.SetLabels(labels)
	}
	return &task{item: it, desired: desired, mapping: mapping, res: res}, nil
}
