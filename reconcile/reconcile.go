package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source"
)

// DefaultHealthTimeout bounds the wait for health when [Options.HealthTimeout] is zero.
const DefaultHealthTimeout = 5 * time.Minute

// Stages are the implementations of a pass's stages. Source and Differ are
// required; Applier is required unless the mode is DriftOnly; a nil Renderer means
// [render.Auto] (plain YAML only, so that this package links neither kustomize nor
// Helm: a program that renders them from repositories it does not trust sets the
// Renderer of render/isolate, which runs them in a child process); a nil Health
// skips the health stage.
type Stages struct {
	Source   Source
	Renderer render.Renderer
	Differ   Differ
	Applier  Applier
	Health   HealthChecker
}

// Options configure a [Reconciler].
type Options struct {
	// Mode says what a pass may write (default Apply).
	Mode Mode
	// Path is the directory of the artifact to render, slash-separated ("" or "."
	// for the root).
	Path string
	// Render are the render options; with the artifact's digest and Path they key
	// the remembered render.
	Render render.Options
	// Transforms run, in order, on every pass after the render.
	Transforms []Transformer
	// LastApplied is the revision a previous Reconciler applied, as the caller
	// recorded it (a controller's status.lastAppliedRevision): a new Reconciler
	// starts from it, so that after a restart [Reconciler.LastApplied] says it and
	// mode Apply does not apply that revision again for drift alone.
	LastApplied string
	// Prune deletes the objects that left the set.
	Prune bool
	// AllowEmpty allows a pass whose desired set is empty to prune every object.
	// Without it such a pass fails with [ErrEmptySet] before writing anything.
	AllowEmpty bool
	// AllowPruneInUse prunes a Namespace or CustomResourceDefinition that left the
	// set even while it holds objects the set keeps or nobody in the set owns, which
	// deletes them all. Without it such an object is kept and reported as skipped
	// until it is empty (see apply.ApplyOptions.AllowPruneInUse).
	AllowPruneInUse bool
	// CreateNamespace creates the namespaces that the set's objects or the
	// inventory's parent use and that neither exist nor are declared by the set,
	// before the apply (see apply.ApplyOptions.CreateNamespace): they are not
	// members of the inventory and never pruned. The diff plans the objects of
	// such a namespace as created. Without it they fail, naming the namespace.
	CreateNamespace bool
	// Wait waits, after a pass that wrote, until the set is healthy or
	// HealthTimeout passes; otherwise the health stage reports the health as it is.
	Wait bool
	// HealthTimeout bounds the wait for health (default [DefaultHealthTimeout]).
	HealthTimeout time.Duration
	// Hooks runs the hooks of the set (Argo CD's argocd.argoproj.io/hook, Helm's
	// helm.sh/hook) in their phases around the apply, as apply.ApplyOptions.Hooks
	// says, each waited for up to HealthTimeout; hooks are left out of the
	// diff, the inventory and the health of the set. Without it, a hook is
	// applied as a member (and one named by generateName fails the pass).
	Hooks bool
	// OnEvent, when set, receives the progress of each pass from the goroutine
	// running it (apply events may come from the applier's goroutines, one at a time).
	OnEvent func(Event)
	// Cluster configures the [Cluster] that [NewForConfig] builds; [New] ignores it.
	Cluster ClusterOptions
	// Logger receives a line per pass at V(1); unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Reconciler runs passes of source → render → transforms → diff → apply → prune →
// health. It remembers the last render and the last revision it applied, so it is
// meant to live as long as the loop that calls it. Passes are serialised: Reconcile
// is safe for concurrent use and a second call waits for the first.
type Reconciler struct {
	stages Stages
	opts   Options

	mu          sync.Mutex
	memo        renderMemo
	lastApplied string
}

// New returns a Reconciler, or an error when a required stage is missing.
func New(stages Stages, opts Options) (*Reconciler, error) {
	switch {
	case stages.Source == nil:
		return nil, errors.New("reconcile: no source")
	case stages.Differ == nil:
		return nil, errors.New("reconcile: no differ")
	case stages.Applier == nil && opts.Mode != DriftOnly:
		return nil, fmt.Errorf("reconcile: mode %s needs an applier", opts.Mode)
	case opts.Mode < Apply || opts.Mode > DryRun:
		return nil, fmt.Errorf("reconcile: unknown %s", opts.Mode)
	}
	if stages.Renderer == nil {
		stages.Renderer = render.Auto{}
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = DefaultHealthTimeout
	}
	return &Reconciler{stages: stages, opts: opts, lastApplied: opts.LastApplied}, nil
}

// LastApplied returns the last revision a pass applied completely and found
// healthy (when it has a health stage), or "".
func (r *Reconciler) LastApplied() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastApplied
}

// pass is the state of one Reconcile.
type pass struct {
	r         *Reconciler
	res       *Result
	manifests []object.Manifest
	origins   map[object.ID]object.Origin  // set by the diff stage
	hooks     []*unstructured.Unstructured // with Options.Hooks
	applied   bool                         // the cluster holds the revision; it counts once health passes too
}

// Reconcile runs one pass and returns its result. On failure the error is a
// [*StageError] naming the stage and, through its cause, the file or object; the
// result holds what the pass found up to then. A failed source, render, transform
// or diff writes nothing; a failed apply does not prune; a pass never prunes an
// empty set unless AllowEmpty is set.
func (r *Reconciler) Reconcile(ctx context.Context) (*Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Every stage logs to the same logger: Options.Logger, else the context's.
	log := logging.From(ctx, r.opts.Logger)
	ctx = logr.NewContext(ctx, log)
	p := &pass{r: r, res: &Result{Mode: r.opts.Mode, Durations: map[Stage]time.Duration{}}}
	err := p.run(ctx)
	log.V(1).Info("reconciled", "revision", p.res.Revision, "mode", r.opts.Mode.String(),
		"drift", len(p.res.Drift), "wrote", p.res.Wrote, "error", err)
	return p.res, err
}

func (p *pass) run(ctx context.Context) error {
	r, res := p.r, p.res
	var art *source.Artifact
	if err := p.stage(ctx, StageSource, func() (err error) {
		art, err = r.stages.Source.Fetch(ctx)
		return err
	}); err != nil {
		return err
	}
	res.Revision, res.Digest = art.Revision, art.Digest

	var rendered *render.Result
	if err := p.stage(ctx, StageRender, func() (err error) {
		rendered, res.Rendered, err = r.memo.render(ctx, r.stages.Renderer, art, r.opts.Path, r.opts.Render)
		return err
	}); err != nil {
		return err
	}
	if err := p.stage(ctx, StageTransform, func() error {
		for _, t := range r.opts.Transforms {
			if err := t.Transform(ctx, rendered); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	desired, err := p.desired(rendered)
	if err != nil {
		res.NotApplied = SkipDiffFailed
		return p.fail(StageDiff, err)
	}
	members := desired
	if r.opts.Hooks {
		members, p.hooks = p.splitHooks(desired)
	}
	if len(members) == 0 && r.opts.Prune && !r.opts.AllowEmpty && r.opts.Mode != DriftOnly {
		return p.fail(StagePrune, ErrEmptySet)
	}

	if err := p.stage(ctx, StageDiff, func() error { return p.diff(ctx, members) }); err != nil {
		res.NotApplied = SkipDiffFailed
		return err
	}
	if err := p.write(ctx, members); err != nil {
		return err
	}
	if err := p.health(ctx, members); err != nil {
		return err
	}
	if p.applied {
		r.lastApplied = res.Revision
	}
	return nil
}

// desired returns the rendered objects and keeps their manifests, whose origins
// the diff stage records. An object named only by generateName (a hook Job)
// renders, but cannot be a member of the set: server-side apply and the inventory
// need a name.
func (p *pass) desired(rendered *render.Result) ([]*unstructured.Unstructured, error) {
	p.manifests = rendered.Manifests
	var errs []error
	for _, m := range rendered.Manifests {
		if p.r.opts.Hooks && apply.IsHook(m.Object) {
			if _, _, err := apply.ParseHook(m.Object); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", m.Origin, err))
			}
			continue
		}
		if id := object.IDOf(m.Object); id.Name == "" {
			id.Name = m.Object.GetGenerateName() + "*"
			errs = append(errs, fmt.Errorf("%s (%s): named by metadata.generateName only: server-side apply and the inventory need metadata.name", id.KubectlString(), m.Origin))
		}
	}
	p.res.Desired = len(rendered.Manifests)
	return object.Objects(rendered.Manifests), errors.Join(errs...)
}

func (p *pass) diff(ctx context.Context, desired []*unstructured.Unstructured) error {
	plan, err := p.r.stages.Differ.Diff(ctx, desired)
	// The stages may name an object as the cluster does, without the namespace a
	// manifest gave a cluster-scoped kind: each origin is found under that name too.
	p.origins = make(map[object.ID]object.Origin, len(p.manifests))
	for _, m := range p.manifests {
		id := object.IDOf(m.Object)
		p.origins[id] = m.Origin
		if id.Namespace != "" {
			id.Namespace = ""
			if _, ok := p.origins[id]; !ok {
				p.origins[id] = m.Origin
			}
		}
	}
	if plan == nil {
		plan = diff.NewPlan(nil, nil)
	}
	if len(plan.Failed) > 0 {
		plan.Failed = pendingNamespaces(plan, p.r.opts.CreateNamespace)
		if len(plan.Failed) == 0 {
			err = nil // the differ's error joins the failures, all resolved
		}
	}
	for _, c := range plan.Changes {
		if c.Action != diff.Delete {
			c.Origin = p.origins[c.ID]
		}
	}
	sortPlan(plan)
	p.res.Plan = plan
	for _, c := range plan.Changes {
		if c.Changed() {
			p.res.Drift = append(p.res.Drift, c.ID)
		}
	}
	if len(plan.Failed) > 0 {
		return p.objectErrors(plan.Failed)
	}
	return err
}

// pendingNamespaces returns the failures of plan other than a missing namespace.
// With create, which has the apply create it, the object is planned as created;
// without, its error says what to do.
func pendingNamespaces(plan *diff.Plan, create bool) []*object.Error {
	var failed []*object.Error
	for _, f := range plan.Failed {
		if ssa.IsNamespaceNotFound(f.Err, f.ID.Namespace) {
			if create {
				plan.Changes = append(plan.Changes, &diff.Change{ID: f.ID, Action: diff.Create})
				plan.Counts.Create++
				plan.Counts.Failed--
				continue
			}
			f.Err = fmt.Errorf("%w (add the Namespace to the set, or create it with Options.CreateNamespace)", f.Err)
		}
		failed = append(failed, f)
	}
	return failed
}

// splitHooks returns the members of desired and its hooks (checked by desired).
func (p *pass) splitHooks(desired []*unstructured.Unstructured) (members, hooks []*unstructured.Unstructured) {
	for _, u := range desired {
		if apply.IsHook(u) {
			hooks = append(hooks, u)
		} else {
			members = append(members, u)
		}
	}
	return members, hooks
}

// write runs the apply and prune stages when the mode and the plan call for them:
// the apply with the hooks of the set (in their phases), the prune with the
// members only, or with the hooks when there is no member left (a deletion).
func (p *pass) write(ctx context.Context, desired []*unstructured.Unstructured) error {
	r, res := p.r, p.res
	plan := res.Plan
	switch {
	case !plan.Counts.Changed():
		res.NotApplied = SkipInSync
		p.applied = r.opts.Mode.writes()
		return nil
	case r.opts.Mode == DriftOnly:
		res.NotApplied = SkipDriftOnly
		return nil
	case r.opts.Mode == Apply && res.Revision == r.lastApplied:
		res.NotApplied = SkipAppliedRevision
		return nil
	}
	opts := ApplyOptions{
		DryRun:          r.opts.Mode == DryRun,
		AllowEmpty:      r.opts.AllowEmpty,
		AllowPruneInUse: r.opts.AllowPruneInUse,
		CreateNamespace: r.opts.CreateNamespace,
		OnEvent:         func(o apply.Event) { p.emit(Event{Kind: ObjectDone, Stage: StageApply, Object: o}) },
		Hooks:           r.opts.Hooks,
		HookTimeout:     r.opts.HealthTimeout,
	}
	// With hooks, a sync that only prunes runs them too, as Argo CD's does.
	withHooks := append(slices.Clone(desired), p.hooks...)
	ran := false
	if plan.Counts.Create+plan.Counts.Update > 0 || (len(p.hooks) > 0 && len(desired) > 0) {
		ran = true
		if err := p.stage(ctx, StageApply, func() error {
			out, err := r.stages.Applier.Apply(ctx, withHooks, opts)
			return p.record(out, err)
		}); err != nil {
			res.NotApplied = SkipApplyFailed
			return err
		}
	}
	if r.opts.Prune && plan.Counts.Delete > 0 {
		ran = true
		opts.OnEvent = func(o apply.Event) { p.emit(Event{Kind: ObjectDone, Stage: StagePrune, Object: o}) }
		pruned := desired
		if opts.Hooks = r.opts.Hooks && len(desired) == 0; opts.Hooks {
			pruned = p.hooks // a deletion: its PreDelete and PostDelete hooks run
		}
		if err := p.stage(ctx, StagePrune, func() error {
			out, err := r.stages.Applier.Prune(ctx, pruned, opts)
			return p.record(out, err)
		}); err != nil {
			return err
		}
	}
	if !ran {
		res.NotApplied = SkipOnlyDeletions
	}
	if !opts.DryRun {
		res.Wrote = ran
		p.applied = true
	}
	return nil
}

// record adds an applier's results and returns its error, or the failures it
// reported, naming each object's file.
func (p *pass) record(out []apply.Event, err error) error {
	p.res.Objects = append(p.res.Objects, out...)
	var failed []*object.Error
	for _, o := range out {
		if o.Action == apply.Failed {
			cause := o.Err
			if cause == nil {
				cause = errors.New(o.Reason)
			}
			failed = append(failed, &object.Error{ID: o.ID, Err: cause})
		}
	}
	if len(failed) > 0 {
		return p.objectErrors(failed)
	}
	return err
}

// objectErrors joins the errors of failed objects, each after the file and line
// it came from, as a compiler's errors read ("app.yaml:3: apply
// deployment.apps/web -n shop: …"), naming the object once.
func (p *pass) objectErrors(failed []*object.Error) error {
	errs := make([]error, len(failed))
	for i, f := range failed {
		if o, ok := p.origins[f.ID]; ok && f.Origin == (object.Origin{}) {
			f.Origin = o
		}
		errs[i] = f
	}
	return errors.Join(errs...)
}

// assessed returns the objects of desired whose health the pass assesses: all
// but those the apply leaves absent by their annotations (Flux's ssa: Ignore or
// reconcile: disabled on an object that does not exist), which would be Missing
// forever.
func (p *pass) assessed(desired []*unstructured.Unstructured) []object.ID {
	ids := object.IDs(desired)
	if p.res.Plan == nil {
		return ids
	}
	absent := object.NewSet()
	for _, c := range p.res.Plan.Changes {
		if c.Action == diff.None && c.Reason != "" && c.Live == nil {
			absent.Add(c.ID)
		}
	}
	return slices.DeleteFunc(ids, absent.Has)
}

func (p *pass) health(ctx context.Context, desired []*unstructured.Unstructured) error {
	h := p.r.stages.Health
	if h == nil {
		return nil
	}
	ids := p.assessed(desired)
	wait := p.r.opts.Wait && p.res.Wrote
	return p.stage(ctx, StageHealth, func() error {
		hctx := ctx
		var progress func(object.ID, health.Status)
		if wait {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, p.r.opts.HealthTimeout)
			defer cancel()
			progress = func(id object.ID, s health.Status) {
				p.emit(Event{Kind: HealthChanged, Stage: StageHealth, ID: id, Health: s})
			}
		}
		var (
			statuses map[object.ID]health.Status
			err      error
		)
		if wait {
			statuses, err = h.Wait(hctx, ids, progress)
		} else {
			statuses, err = h.Health(hctx, ids)
		}
		p.res.HealthObjects = statuses
		p.res.Health = health.Aggregate(statuses)
		return err
	})
}

// stage runs f as stage s: it times it, reports it and wraps its error.
func (p *pass) stage(ctx context.Context, s Stage, f func() error) error {
	if err := ctx.Err(); err != nil {
		return p.fail(s, err)
	}
	p.emit(Event{Kind: StageStarted, Stage: s})
	start := time.Now()
	err := f()
	d := time.Since(start)
	p.res.Durations[s] += d
	p.emit(Event{Kind: StageFinished, Stage: s, Duration: d, Err: err})
	if err != nil {
		return p.fail(s, err)
	}
	return nil
}

func (p *pass) fail(s Stage, err error) error {
	return &StageError{Stage: s, Revision: p.res.Revision, Err: err}
}

func (p *pass) emit(e Event) {
	if p.r.opts.OnEvent != nil {
		p.r.opts.OnEvent(e)
	}
}
