package apply

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/internal/redact"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
)

// hookItem is one hook of a set.
type hookItem struct {
	obj  *unstructured.Unstructured
	id   object.ID // named generateName+"*" until it is created
	hook Hook
	key  string // the value of HookLabel
}

// hooks is the state of the hooks of one Apply: nil when ApplyOptions.Hooks is
// off, and then every method does nothing.
type hooks struct {
	r     *run
	items []hookItem
	// begun is set once the first phase started: from then on a failure runs the
	// SyncFail hooks. install: no members were recorded; deletion: the apply
	// prunes every member of an empty set.
	begun, install, deletion bool
	// started are the phases that started.
	started map[HookPhase]bool
	// syncRan counts the Sync hooks run so far (in the order of selected(Sync)).
	syncRan int
}

// splitHooks takes the hooks out of objs when ApplyOptions.Hooks is set, and
// returns the members.
func (r *run) splitHooks(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if !r.opts.Hooks {
		return objs, nil
	}
	if r.opts.HookGate == nil && !r.opts.DryRun {
		return nil, errors.New("apply: ApplyOptions.Hooks needs a HookGate to tell when a hook is done (health.Waiter.Gate)")
	}
	members, objs, err := SplitHooks(objs)
	if err != nil {
		return nil, err
	}
	h := &hooks{r: r, started: map[HookPhase]bool{}}
	var owner []string
	if r.opts.Inventory != nil {
		for k, v := range r.opts.Inventory.Labels() {
			owner = append(owner, k+"="+v)
		}
		slices.Sort(owner)
	}
	for _, o := range objs {
		hook, _, _ := ParseHook(o) // parsed by SplitHooks
		id := object.IDOf(o)
		name := id.Name
		if name == "" {
			id.Name = o.GetGenerateName() + "*"
			name = o.GetGenerateName()
		}
		if id.Kind == "" || name == "" || o.GetAPIVersion() == "" {
			return nil, fmt.Errorf("hook %s: apiVersion, kind and name or generateName must be set", id.KubectlString())
		}
		sum := sha256.Sum256([]byte(strings.Join(append(slices.Clone(owner), id.Group, id.Kind, id.Namespace, name), "\n")))
		h.items = append(h.items, hookItem{obj: o, id: id, hook: hook, key: hex.EncodeToString(sum[:10])})
	}
	r.hooks = h
	return members, nil
}

// begin decides what the apply is (an install, an upgrade or a deletion) from the
// members the inventory recorded, reports the hooks that do not run in it, and
// runs the PreSync (or PreDelete) hooks.
func (h *hooks) begin(ctx context.Context, previous []object.ID, members int) error {
	if h == nil {
		return nil
	}
	r := h.r
	h.begun = true
	h.install = len(previous) == 0
	h.deletion = members == 0 && r.opts.Prune && r.opts.Inventory != nil
	phases := []HookPhase{PreSync, Sync, PostSync, SyncFail}
	if h.deletion {
		phases = []HookPhase{PreDelete, PostDelete}
	}
	for _, it := range h.items {
		reason := it.hook.Never
		if reason == "" && !slices.ContainsFunc(phases, func(p HookPhase) bool { return it.hook.Runs(p, h.install) }) {
			reason = fmt.Sprintf("not run: %s hook, and this apply %s", triggers(it.hook), h.kind())
		}
		if reason != "" {
			p := Skip
			if len(it.hook.Triggers) > 0 {
				p = it.hook.Triggers[0].Phase
			}
			r.emit(Event{ID: it.id, Action: Skipped, Phase: p, Stage: StageOf(it.id), Wave: it.hook.Weight, DryRun: r.opts.DryRun, Reason: reason})
		}
	}
	if h.deletion {
		return h.phase(ctx, PreDelete)
	}
	return h.phase(ctx, PreSync)
}

// kind says what the apply is, for people.
func (h *hooks) kind() string {
	switch {
	case h.deletion:
		return "deletes the set"
	case h.install:
		return "installs (no members recorded)"
	}
	return "upgrades"
}

// triggers names the phases of h, for people.
func triggers(h Hook) string {
	var s []string
	for _, t := range h.Triggers {
		switch t.When {
		case OnInstall:
			s = append(s, string(t.Phase)+" on install")
		case OnUpgrade:
			s = append(s, string(t.Phase)+" on upgrade")
		default:
			s = append(s, string(t.Phase))
		}
	}
	return "a " + strings.Join(s, ", ")
}

// waveFirst reports whether the set has Argo CD Sync hooks, whose waves order them
// among the set's objects: then the objects go wave by wave, as in Argo CD.
func (h *hooks) waveFirst() bool {
	return h != nil && slices.ContainsFunc(h.items, func(it hookItem) bool { return it.hook.Runs(Sync, true) || it.hook.Runs(Sync, false) })
}

// syncBefore runs the Sync hooks of weight below wave that have not run: a Sync
// hook of wave W runs after the objects of the waves up to W, before those of
// later waves (see waveFirst). With math.MaxInt it runs the rest, after the set's
// objects were applied.
func (h *hooks) syncBefore(ctx context.Context, wave int) error {
	if h == nil || h.deletion {
		return nil
	}
	h.started[Sync] = true
	items := h.selected(Sync)[h.syncRan:]
	n := 0
	for n < len(items) && items[n].hook.Weight < wave {
		n++
	}
	h.syncRan += n
	return h.runWaves(ctx, Sync, items[:n])
}

// finish ends an Apply that returns err: on success it runs the PostSync (or
// PostDelete) hooks, once the set is healthy; on failure of a sync, the SyncFail
// hooks. It returns err, or the error of a failed PostSync phase, joined with that
// of a failed SyncFail phase.
func (h *hooks) finish(ctx context.Context, err error) error {
	if h == nil || !h.begun {
		return err
	}
	if err == nil {
		if h.deletion {
			return h.phase(ctx, PostDelete)
		}
		err = h.postSync(ctx)
	}
	if err == nil || h.deletion {
		return err
	}
	h.skip(h.selected(Sync)[h.syncRan:], Sync, "not run: the sync failed")
	if !h.started[PostSync] {
		h.skip(h.selected(PostSync), PostSync, "not run: the sync failed")
	}
	return errors.Join(err, h.phase(ctx, SyncFail))
}

// postSync waits until the applied objects are healthy, when PostSync hooks are to
// run, and runs them.
func (h *hooks) postSync(ctx context.Context) error {
	r := h.r
	if len(h.selected(PostSync)) > 0 && !r.opts.DryRun && len(r.desired) > 0 {
		if err := r.opts.HookGate(ctx, r.desired.Sorted()); err != nil {
			h.started[PostSync] = true
			h.skip(h.selected(PostSync), PostSync, "not run: the set did not become healthy")
			return fmt.Errorf("before the PostSync hooks: %w", err)
		}
	}
	return h.phase(ctx, PostSync)
}

// selected returns the hooks that run in phase p, by weight, then stage, then
// identity: Helm's and Argo CD's order.
func (h *hooks) selected(p HookPhase) []hookItem {
	var out []hookItem
	for _, it := range h.items {
		if it.hook.Runs(p, h.install) {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b hookItem) int {
		return cmp.Or(cmp.Compare(a.hook.Weight, b.hook.Weight), cmp.Compare(StageOf(a.id), StageOf(b.id)), object.Compare(a.id, b.id))
	})
	return out
}

func (h *hooks) skip(items []hookItem, p HookPhase, reason string) {
	for _, it := range items {
		h.r.emit(Event{ID: it.id, Action: Skipped, Phase: p, Stage: StageOf(it.id), Wave: it.hook.Weight, DryRun: h.r.opts.DryRun, Reason: reason})
	}
}

// phase runs the hooks of p wave by wave, the hooks of a wave concurrently, and
// stops after a wave where one failed.
func (h *hooks) phase(ctx context.Context, p HookPhase) error {
	h.started[p] = true
	return h.runWaves(ctx, p, h.selected(p))
}

// runWaves runs items, hooks of phase p, wave by wave.
func (h *hooks) runWaves(ctx context.Context, p HookPhase, items []hookItem) error {
	if h.r.opts.DryRun {
		h.skip(items, p, "not run: dry run")
		return nil
	}
	for len(items) > 0 {
		n := 1
		for n < len(items) && items[n].hook.Weight == items[0].hook.Weight {
			n++
		}
		wave := items[:n]
		items = items[n:]
		var (
			mu   sync.Mutex
			errs []error
		)
		parallel.Do(ctx, h.r.m.opts.Concurrency, len(wave), func(i int) {
			if err := h.run(ctx, p, wave[i]); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			h.skip(items, p, "not run: a hook of an earlier wave failed")
			return fmt.Errorf("%s hooks: %w", p, errors.Join(errs...))
		}
	}
	return nil
}

// run creates one hook, waits until it is done and deletes it as its policies say.
func (h *hooks) run(ctx context.Context, p HookPhase, it hookItem) error {
	r := h.r
	ev := Event{ID: it.id, Phase: p, Stage: StageOf(it.id), Wave: it.hook.Weight}
	fail := func(err error) error {
		err = redact.Secret(err, it.obj, nil)
		ev.Action, ev.Err, ev.Reason = Failed, err, err.Error()
		r.emit(ev)
		return err
	}
	gvk := it.obj.GroupVersionKind()
	mapping, err := r.m.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fail(fmt.Errorf("hook %s: %w", it.id.KubectlString(), err))
	}
	desired := it.obj.DeepCopy()
	res, err := ssa.Resource(r.m.client, mapping, desired)
	if err != nil {
		return fail(fmt.Errorf("hook %s: %w", it.id.KubectlString(), err))
	}
	l := desired.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[HookLabel] = it.key
	desired.SetLabels(l)
	if it.hook.Deletes(BeforeHookCreation) {
		if err := h.deletePrevious(ctx, p, it, res); err != nil {
			return fail(err)
		}
	}
	var out *unstructured.Unstructured
	if desired.GetName() == "" {
		out, err = res.Create(ctx, desired, metav1.CreateOptions{FieldManager: r.m.opts.FieldManager})
		ev.Action = Created
	} else {
		ev.Action = Created
		if _, err := res.Get(ctx, desired.GetName(), metav1.GetOptions{}); err == nil {
			ev.Action = Configured
		}
		out, err = res.Apply(ctx, desired.GetName(), desired, metav1.ApplyOptions{FieldManager: r.m.opts.FieldManager, Force: r.opts.Force})
	}
	if err != nil {
		return fail(fmt.Errorf("hook %s: create: %w", it.id.KubectlString(), err))
	}
	ev.ID = object.IDOf(out)
	r.emit(ev)
	done := Event{ID: ev.ID, Phase: p, Stage: ev.Stage, Wave: ev.Wave, Action: Succeeded}
	werr := r.opts.HookGate(ctx, []object.ID{ev.ID})
	if werr != nil {
		werr = fmt.Errorf("hook %s: %w", ev.ID.KubectlString(), werr)
		done.Action, done.Err, done.Reason = Failed, werr, werr.Error()
	}
	r.emit(done)
	if (werr == nil && it.hook.Deletes(HookSucceeded)) || (werr != nil && it.hook.Deletes(HookFailed)) {
		policy := HookSucceeded
		if werr != nil {
			policy = HookFailed
		}
		if err := h.delete(ctx, p, it, res, out, string(policy)); err != nil {
			return errors.Join(werr, err)
		}
	}
	return werr
}

// deletePrevious deletes the objects an earlier run of the hook left, found by
// name or, for a hook named by generateName, by HookLabel, and waits until they
// are gone. An object of the hook's name without the label is not the hook's: it
// is left to the apply, which takes it over.
func (h *hooks) deletePrevious(ctx context.Context, p HookPhase, it hookItem, res dynamic.ResourceInterface) error {
	var previous []unstructured.Unstructured
	if name := it.obj.GetName(); name != "" {
		live, err := res.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("hook %s: read the last run: %w", it.id.KubectlString(), err)
		case live.GetLabels()[HookLabel] == it.key:
			previous = append(previous, *live)
		}
	} else {
		sel := labels.SelectorFromSet(labels.Set{HookLabel: it.key}).String()
		list, err := res.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("hook %s: list the last runs: %w", it.id.KubectlString(), err)
		}
		previous = list.Items
	}
	for i := range previous {
		if err := h.delete(ctx, p, it, res, &previous[i], string(BeforeHookCreation)); err != nil {
			return err
		}
		if err := waitGone(ctx, res, previous[i].GetName(), time.Minute); err != nil {
			return fmt.Errorf("hook %s: wait until the last run is gone: %w", it.id.KubectlString(), err)
		}
	}
	return nil
}

// delete deletes one run of a hook, as policy says, and reports it.
func (h *hooks) delete(ctx context.Context, p HookPhase, it hookItem, res dynamic.ResourceInterface, live *unstructured.Unstructured, policy string) error {
	r := h.r
	id := object.IDOf(live)
	propagation := r.opts.PropagationPolicy
	if propagation == "" {
		propagation = metav1.DeletePropagationBackground
	}
	uid := live.GetUID()
	err := res.Delete(ctx, live.GetName(), metav1.DeleteOptions{PropagationPolicy: &propagation, Preconditions: &metav1.Preconditions{UID: &uid}})
	ev := Event{ID: id, Phase: p, Stage: StageOf(id), Wave: it.hook.Weight, Action: Deleted, Reason: "delete policy " + policy}
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		err = fmt.Errorf("hook %s: delete (%s): %w", id.KubectlString(), policy, err)
		ev.Action, ev.Err, ev.Reason = Failed, err, err.Error()
		r.emit(ev)
		return err
	}
	r.emit(ev)
	return nil
}

// namespaceItems returns the hooks as items, for the namespaces they use.
func (h *hooks) namespaceItems() []item {
	if h == nil {
		return nil
	}
	out := make([]item, len(h.items))
	for i, it := range h.items {
		out[i] = item{obj: it.obj, id: it.id, stage: StageOf(it.id)}
	}
	return out
}

// HookResult is what happened to one hook in one phase of an apply.
type HookResult struct {
	// ID names the hook as it was created (a generateName hook gets a new name
	// each run), or as declared when it was not.
	ID    object.ID
	Phase HookPhase
	// Ran is true when the hook was created (or applied, for a named hook whose
	// last run was kept).
	Ran bool
	// Outcome is Succeeded, Failed or Skipped; empty when the hook ran and the
	// apply stopped before it was done.
	Outcome Action
	// Deleted is true when a delete policy deleted it (before its creation, for an
	// earlier run, or after it was done).
	Deleted bool
	// Reason says why it failed or was skipped.
	Reason string
}

// HookResults folds the hook events of events (those with a Phase) into one
// result per hook and phase, in the order they started.
func HookResults(events []Event) []HookResult {
	type key struct {
		id    object.ID
		phase HookPhase
	}
	index := map[key]int{}
	var out []HookResult
	for _, e := range events {
		if e.Phase == "" {
			continue
		}
		k := key{e.ID, e.Phase}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, HookResult{ID: e.ID, Phase: e.Phase})
		}
		hr := &out[i]
		switch e.Action {
		case Created, Configured, Unchanged:
			hr.Ran = true
		case Deleted:
			hr.Deleted = true
		case Succeeded, Failed, Skipped:
			if hr.Outcome != Failed { // a failed delete after a failure keeps the failure
				hr.Outcome, hr.Reason = e.Action, e.Reason
			}
		}
	}
	return out
}

// Hooks returns what happened to each hook (see [HookResults]).
func (r *Result) Hooks() []HookResult { return HookResults(r.Events) }
