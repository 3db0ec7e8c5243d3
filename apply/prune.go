package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// prune deletes the previous members that left the desired set, stage by stage in
// reverse apply order, and returns those that must stay in the inventory: their
// delete failed, or they are Namespaces or CustomResourceDefinitions still in use.
// It deletes only live objects that carry all of the inventory's labels and that
// our field manager applied, keeps those annotated to be kept, and deletes with the
// UID seen, so an object recreated meanwhile by someone else is not touched.
func (r *run) prune(ctx context.Context, previous []object.ID, desired object.Set) ([]object.ID, error) {
	labels := r.opts.Inventory.Labels()
	if len(labels) == 0 {
		return previous, errors.New("prune: the inventory has no membership labels; refusing to delete")
	}
	var gone []object.ID
	for _, id := range previous {
		if !desired.Has(id) {
			gone = append(gone, id)
		}
	}
	slices.SortFunc(gone, func(a, b object.ID) int {
		return cmp.Or(cmp.Compare(StageOf(b), StageOf(a)), object.Compare(a, b))
	})
	var (
		mu   sync.Mutex
		stay []object.ID
		errs []error
		last []object.ID // annotated PruneLast=true, deferred
	)
	for len(gone) > 0 || len(last) > 0 {
		var batch []object.ID
		final := len(last) > 0 && (len(gone) == 0 || StageOf(gone[0]) <= StageCRDs)
		if final {
			// After every other prune, but before the Namespaces and CRDs
			// that may hold them.
			batch, last = last, nil
		} else {
			stage := StageOf(gone[0])
			n := 1
			for n < len(gone) && StageOf(gone[n]) == stage {
				n++
			}
			batch, gone = gone[:n], gone[n:]
		}
		workers := r.m.opts.Concurrency
		if slices.ContainsFunc(batch, func(id object.ID) bool { return StageOf(id) <= StageCRDs }) {
			// Each Namespace or CRD lists what it still holds, with Concurrency
			// lists in flight: one at a time keeps the bound.
			workers = 1
		}
		parallel.Do(ctx, workers, len(batch), func(i int) {
			ev, inUse := r.pruneObject(ctx, batch[i], !final, len(desired) == 0)
			mu.Lock()
			defer mu.Unlock()
			if ev.Action == "" {
				last = append(last, batch[i])
				return
			}
			r.emit(ev)
			if ev.Err != nil || inUse {
				stay = append(stay, batch[i])
				if ev.Err != nil {
					errs = append(errs, ev.Err)
				}
			}
		})
		if err := ctx.Err(); err != nil {
			return append(append(stay, last...), gone...), err
		}
		if len(errs) > 0 {
			// Keep the reverse order: later stages go only when earlier ones are gone.
			return append(append(stay, last...), gone...), errors.Join(errs...)
		}
	}
	return stay, nil
}

// pruneObject deletes one object if it is ours, not kept and not in use, and
// reports whether it stays in the inventory though it did not fail: a Namespace or
// CustomResourceDefinition that still holds objects. With deferLast, an object
// annotated PruneLast=true is left for the final round: its event has no Action.
// emptied says that the whole set is deleted.
func (r *run) pruneObject(ctx context.Context, id object.ID, deferLast, emptied bool) (Event, bool) {
	ev := Event{ID: id, Stage: StageOf(id), DryRun: r.opts.DryRun}
	fail := func(err error) (Event, bool) {
		ev.Action, ev.Err, ev.Reason = Failed, fmt.Errorf("prune %s: %w", id.KubectlString(), err), err.Error()
		return ev, false
	}
	skip := func(reason string) (Event, bool) {
		ev.Action, ev.Reason = Skipped, reason
		return ev, false
	}
	mapping, err := r.m.mapper.RESTMapping(id.GroupKind())
	if meta.IsNoMatchError(err) {
		return skip("its kind no longer exists")
	}
	if err != nil {
		return fail(err)
	}
	var res dynamic.ResourceInterface = r.m.client.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		res = r.m.client.Resource(mapping.Resource).Namespace(id.Namespace)
	}
	live, err := res.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return skip("already gone")
	}
	if err != nil {
		return fail(err)
	}
	dir, reason := keep(live, r.opts.Inventory.Labels(), r.m.opts.FieldManager, emptied)
	if reason != "" {
		return skip(reason)
	}
	if dir.PruneLast && deferLast {
		return Event{}, false
	}
	if live.GetDeletionTimestamp() != nil {
		// Deleting it again changes nothing; what it holds goes with it.
		r.goingWith(live)
		return skip("already being deleted")
	}
	if !r.opts.AllowPruneInUse {
		if reason := r.inUse(ctx, id, live); reason != "" {
			r.warn(fmt.Sprintf("%s left the set but was kept: %s", id.KubectlString(), reason))
			ev.Action, ev.Reason = Skipped, "not pruned: "+reason
			return ev, true
		}
	}
	policy := r.opts.PropagationPolicy
	if policy == "" {
		policy = metav1.DeletePropagationBackground
	}
	uid := live.GetUID()
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}}
	if r.opts.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := res.Delete(ctx, id.Name, opts); err != nil && !apierrors.IsNotFound(err) {
		return fail(err)
	}
	r.goingWith(live)
	if r.opts.PruneWait > 0 && !r.opts.DryRun {
		if err := waitGone(ctx, res, id.Name, r.opts.PruneWait); err != nil {
			return fail(fmt.Errorf("wait for deletion: %w", err))
		}
	}
	ev.Action = Pruned
	return ev, false
}

// keep returns why live must not be pruned, or "", and the directives of its
// annotations: it lacks one of the inventory's labels, it is annotated to be kept
// (prune disabled; Delete=false when the set is emptied; Flux's reconcile:
// disabled or ssa: Ignore), its annotations do not parse, or manager never
// applied it (the labels were copied onto it, by hand or by a tool that copies
// labels).
func keep(live *unstructured.Unstructured, labels map[string]string, manager string, emptied bool) (Directives, string) {
	have := live.GetLabels()
	for k, v := range labels {
		if have[k] != v {
			return Directives{}, fmt.Sprintf("not pruned: %v (label %s=%q, want %q)", ErrNotMember, k, have[k], v)
		}
	}
	ann := live.GetAnnotations()
	for _, k := range []string{PruneAnnotation, FluxPruneAnnotation} {
		if ann[k] == "disabled" {
			return Directives{}, "not pruned: annotation " + k + "=disabled"
		}
	}
	dir, err := ParseDirectives(live)
	if err != nil {
		return dir, fmt.Sprintf("not pruned: its annotations do not parse: %v", err)
	}
	if reason := dir.Kept(emptied); reason != "" {
		return dir, reason
	}
	for _, e := range live.GetManagedFields() {
		// An Update is ours too when the object is written by a replace.
		if e.Manager == manager && (e.Operation == metav1.ManagedFieldsOperationApply || e.Operation == metav1.ManagedFieldsOperationUpdate) {
			return dir, ""
		}
	}
	return dir, fmt.Sprintf("not pruned: it carries the inventory's labels, but field manager %q never applied it (were the labels copied?)", manager)
}
