package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/csaupgrade"

	"github.com/gitopskit/gitopskit/internal/redact"
	"github.com/gitopskit/gitopskit/internal/ssa"
)

// task is one object being applied.
type task struct {
	item
	// desired is a copy of the object with the inventory's labels.
	desired *unstructured.Unstructured
	mapping *meta.RESTMapping
	// res is the client of the object's resource, in its namespace.
	res dynamic.ResourceInterface
}

func (t *task) listKey() listKey {
	return listKey{gvr: t.mapping.Resource, namespace: t.desired.GetNamespace()}
}

// applyObject applies one object and returns its event: it skips the write when
// the listed live object shows it would change nothing, migrates client-side apply
// ownership first, and turns conflicts and immutable field errors into typed errors
// (or a recreate when allowed).
func (r *run) applyObject(ctx context.Context, t *task) Event {
	ev := Event{ID: t.id, Stage: t.stage, Wave: t.dir.Wave, DryRun: r.opts.DryRun}
	live, listed := r.live.get(t)
	fail := func(err error) Event {
		// The API server's errors quote ill-typed values (a map under data, say).
		err = redact.Secret(err, t.desired, live)
		ev.Action, ev.Err, ev.Reason = Failed, err, err.Error()
		return ev
	}
	if !listed && (t.dir.SSA == SSAIfNotPresent || t.dir.Replace) {
		// What to do depends on whether it exists, and a replace needs its version.
		var err error
		if live, err = t.res.Get(ctx, t.id.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			live, err = nil, nil
		}
		if err != nil {
			return fail(fmt.Errorf("apply %s: %w", t.id.KubectlString(), err))
		}
		listed = true
	}
	if reason := t.dir.Skip(live); reason != "" {
		ev.Action, ev.Reason = Skipped, reason
		return ev
	}
	if live != nil && !r.opts.Adopt {
		if err := r.checkOwner(t, live); err != nil {
			return fail(err)
		}
	}
	if live != nil && !t.dir.Replace {
		migrated, err := r.migrateCSA(ctx, t, live)
		if err != nil {
			return fail(fmt.Errorf("apply %s: migrate client-side apply fields: %w", t.id.KubectlString(), err))
		}
		if !migrated && unchanged(t.desired, live, r.m.opts.FieldManager) {
			ev.Action = Unchanged
			return ev
		}
	}
	if live != nil && t.dir.Replace && ssa.Declared(t.desired, live) {
		// A replace would drop what others set, never a value of ours: an
		// object whose declared values are all in place is left alone, as the
		// diff plans it.
		ev.Action = Unchanged
		return ev
	}
	if live != nil && t.dir.ForceReplace {
		return r.forceReplace(ctx, t, live, ev, fail)
	}
	out, err := r.write(ctx, t, live)
	if err != nil {
		var immutable *ImmutableError
		if !errors.As(err, &immutable) || !(r.opts.Recreate || t.dir.Recreate) {
			return fail(err)
		}
		if _, err := r.recreate(ctx, t, live); err != nil {
			return fail(err)
		}
		ev.Action, ev.Reason = Recreated, "immutable field(s) "+strings.Join(immutable.Fields, ", ")+" changed"
		return ev
	}
	switch {
	case live == nil && listed:
		ev.Action = Created
	case live == nil:
		// Not listed (the list failed): a fresh object has generation 1 and no
		// other field manager yet.
		ev.Action = Configured
		if len(out.GetManagedFields()) == 1 && out.GetGeneration() <= 1 {
			ev.Action = Created
		}
	case same(live, out, r.opts.DryRun):
		ev.Action, ev.Reason = Unchanged, WrittenUnchanged
	default:
		ev.Action = Configured
	}
	return ev
}

// forceReplace deletes and creates live again when a replace would change it
// (Argo CD's Replace=true with Force=true, `kubectl replace --force`): a dry-run
// replace tells; one the API server refuses (an immutable field) would.
func (r *run) forceReplace(ctx context.Context, t *task, live *unstructured.Unstructured, ev Event, fail func(error) Event) Event {
	out, err := ssa.Replace(ctx, t.res, t.desired, live, r.ssaOptions(t), true)
	var immutable *ImmutableError
	if err != nil {
		if err = classify(t, err); !errors.As(err, &immutable) {
			return fail(err)
		}
	}
	if err == nil && same(live, out, true) {
		ev.Action = Unchanged
		return ev
	}
	if _, err := r.recreate(ctx, t, live); err != nil {
		return fail(err)
	}
	ev.Action, ev.Reason = Recreated, "replaced by a delete and a create ("+ArgoSyncOptionsAnnotation+": Force=true,Replace=true)"
	return ev
}

// same reports whether the apply left live's content as it was. An apply that only
// shares ownership of values already there bumps the resource version, but is not
// a change; a dry run keeps the version, so the content is compared.
func same(live, out *unstructured.Unstructured, dryRun bool) bool {
	if !dryRun && live.GetResourceVersion() == out.GetResourceVersion() {
		return true
	}
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
		unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(c.Object, "metadata", "generation")
		return c.Object
	}
	return equality.Semantic.DeepEqual(strip(live), strip(out))
}

// checkOwner refuses an object whose membership labels name another inventory.
func (r *run) checkOwner(t *task, live *unstructured.Unstructured) error {
	if r.opts.Inventory == nil {
		return nil
	}
	labels := live.GetLabels()
	for k, v := range r.opts.Inventory.Labels() {
		if owner, ok := labels[k]; ok && owner != v {
			return &OwnershipError{ID: t.id, Label: k, Owner: owner}
		}
	}
	return nil
}

// ssaOptions are the options of t's writes: Force and the migration of
// client-side apply fields unless t is applied with Merge (Flux's ssa: Merge), and
// its field validation.
func (r *run) ssaOptions(t *task) ssa.Options {
	o := ssa.Options{FieldManager: r.m.opts.FieldManager, Force: r.opts.Force, CSA: sets.New(r.m.opts.CSAManagers...),
		SkipValidation: t.dir.SkipValidation}
	if t.dir.SSA == SSAMerge {
		o.Force, o.CSA = false, nil
	}
	return o
}

// write sends t's server-side apply, or its replace when t says so (live is then
// the object replaced, nil to create it). A dry run predicts the migration of
// client-side apply fields too (see migrateCSA), which it cannot write.
func (r *run) write(ctx context.Context, t *task, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var out *unstructured.Unstructured
	var err error
	o := r.ssaOptions(t)
	switch {
	case t.dir.Replace:
		out, err = ssa.Replace(ctx, t.res, t.desired, live, o, r.opts.DryRun)
	case r.opts.DryRun:
		out, err = ssa.DryRun(ctx, t.res, t.desired, o)
	default:
		out, err = ssa.Apply(ctx, t.res, t.desired, o, false)
	}
	if err != nil {
		return nil, classify(t, err)
	}
	return out, nil
}

// classify turns an API error into a typed error where the caller can act on it.
func classify(t *task, err error) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return fmt.Errorf("apply %s: %w", t.id.KubectlString(), err)
	}
	causes := status.Status().Details.Causes
	switch {
	case apierrors.IsConflict(err):
		var cs []Conflict
		for _, c := range causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				cs = append(cs, Conflict{Field: c.Field, Manager: ssa.ConflictManager(c)})
			}
		}
		if len(cs) > 0 {
			return NewConflictError(t.id, cs, err)
		}
	case apierrors.IsInvalid(err):
		if fields := ssa.ImmutableFields(err); len(fields) > 0 {
			return &ImmutableError{ID: t.id, Fields: fields, Err: err}
		}
	}
	return fmt.Errorf("apply %s: %w", t.id.KubectlString(), err)
}

// recreate deletes the object, waits until it is gone and applies it again.
func (r *run) recreate(ctx context.Context, t *task, live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	res := t.res
	policy := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &policy}
	if live != nil {
		uid := live.GetUID()
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	if r.opts.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
		return live, res.Delete(ctx, t.id.Name, opts)
	}
	if err := res.Delete(ctx, t.id.Name, opts); err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("recreate %s: delete: %w", t.id.KubectlString(), err)
	}
	if err := waitGone(ctx, res, t.id.Name, time.Minute); err != nil {
		return nil, fmt.Errorf("recreate %s: %w", t.id.KubectlString(), err)
	}
	return r.write(ctx, t, nil)
}

// waitGone polls until the named object no longer exists.
func waitGone(ctx context.Context, res dynamic.ResourceInterface, name string, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := res.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// migrateCSA moves the fields owned by client-side apply managers to our field
// manager, so that the first server-side apply does not leave them orphaned. It
// reports whether there was anything to move. A dry run moves nothing: its apply
// predicts the migration (ssa.DryRun), which a dry-run patch here could not pass on.
func (r *run) migrateCSA(ctx context.Context, t *task, live *unstructured.Unstructured) (bool, error) {
	csa := r.ssaOptions(t).CSA
	if !ssa.HasCSA(live, csa) {
		return false, nil
	}
	if r.opts.DryRun {
		return true, nil
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(live, csa, r.m.opts.FieldManager)
	if err != nil || patch == nil {
		return false, err
	}
	_, err = t.res.Patch(ctx, t.id.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
	return err == nil, err
}
