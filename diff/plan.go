package diff

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/internal/scope"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
)

// Plan is the diff of a whole set: one change per object, in [object.Compare] order.
type Plan struct {
	// Changes holds every object's change, None included, sorted by ID.
	Changes []*Change
	// Counts totals the changes by action.
	Counts Counts
	// Failed lists the objects that could not be diffed, sorted by ID.
	Failed []*object.Error

	masker        *masker
	reportForeign bool
}

// NewPlan returns the plan of changes and failed, sorted by object and counted, for
// a [github.com/gitopskit/gitopskit/reconcile.Differ] of another kind than this package's (a test double, a remote
// service): a Plan's Counts must agree with its Changes and Failed.
func NewPlan(changes []*Change, failed []*object.Error) *Plan {
	m, _ := newMasker(nil) // a random key: crypto/rand does not fail
	p := &Plan{Changes: changes, Failed: failed, masker: m}
	p.sortAndCount()
	return p
}

// Changed returns the changes other than [None], in order.
func (p *Plan) Changed() []*Change {
	if p == nil {
		return nil
	}
	var out []*Change
	for _, c := range p.Changes {
		if c.Changed() {
			out = append(out, c)
		}
	}
	return out
}

// sortAndCount sorts the changes and failures by object and counts them.
func (p *Plan) sortAndCount() {
	sort.Slice(p.Changes, func(i, j int) bool { return object.Compare(p.Changes[i].ID, p.Changes[j].ID) < 0 })
	sort.Slice(p.Failed, func(i, j int) bool { return object.Compare(p.Failed[i].ID, p.Failed[j].ID) < 0 })
	p.Counts = Counts{Failed: len(p.Failed)}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Counts.Create++
		case Update:
			p.Counts.Update++
		case Delete:
			p.Counts.Delete++
		default:
			p.Counts.None++
		}
	}
}

// Counts totals a plan's changes.
type Counts struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
	None   int `json:"none"`
	Failed int `json:"failed"`
}

// Changed reports whether anything would be created, updated or deleted.
func (c Counts) Changed() bool { return c.Create+c.Update+c.Delete > 0 }

// Input is the set a [Differ.Plan] compares.
type Input struct {
	// Desired is the set as declared. IDs must be unique.
	Desired []*unstructured.Unstructured
	// Live holds the cluster's copies, with managedFields, of the objects that
	// exist; objects that are neither desired nor in Inventory are ignored.
	Live []*unstructured.Unstructured
	// Inventory lists the objects the set owns (from the last apply); those not in
	// Desired are prune candidates.
	Inventory []object.ID
	// Origins, when set, gives the file and line each desired object was declared
	// at, for [Change.Origin] and the errors of [Plan.Failed].
	Origins map[object.ID]object.Origin
}

// originOf returns where the i-th desired object, named id once scoped, was declared.
func originOf(in Input, i int, id object.ID) object.Origin {
	if o, ok := in.Origins[id]; ok {
		return o
	}
	return in.Origins[object.IDOf(in.Desired[i])] // a cluster-scoped object declared with a namespace
}

// setEngine is implemented by engines that prepare for a whole set: the offline
// engine reads the CRD manifests in it.
type setEngine interface {
	forSet(desired []*unstructured.Unstructured) Engine
}

// liveOf finds the live copy of id. A cluster-scoped object has no namespace in the
// cluster even when its manifest sets one (the server drops it), so an object not
// found under its namespace is looked for without: no live object of a namespaced
// kind lacks a namespace.
func liveOf(live map[object.ID]*unstructured.Unstructured, id object.ID) *unstructured.Unstructured {
	if u, ok := live[id]; ok || id.Namespace == "" {
		return u
	}
	id.Namespace = ""
	return live[id]
}

// Plan diffs every desired object against its live copy and adds the prune
// candidates. Objects that fail are listed in Plan.Failed and their errors are
// joined into the returned error; the plan of the others is still returned. Only a
// bad input (duplicate IDs, wrapping object.ErrDuplicate; nil objects) or a
// failure of Options.Mapper returns a nil plan.
func (d *Differ) Plan(ctx context.Context, in Input) (*Plan, error) {
	m, err := newMasker(d.opts.MaskKey)
	if err != nil {
		return nil, fmt.Errorf("diff: mask key: %w", err)
	}
	live := make(map[object.ID]*unstructured.Unstructured, len(in.Live))
	for _, u := range in.Live {
		if u != nil {
			live[object.IDOf(u)] = u
		}
	}
	desired := in.Desired
	kinds := scope.New(d.opts.Mapper, in.Desired) // with a nil Mapper, only Defines is asked
	if d.opts.Mapper != nil {
		desired = make([]*unstructured.Unstructured, len(in.Desired))
		for i, u := range in.Desired {
			if u == nil {
				return nil, fmt.Errorf("diff: desired object %d is nil", i)
			}
			if desired[i], err = kinds.Object(u); err != nil {
				return nil, fmt.Errorf("diff: %w", err)
			}
		}
	}
	declared := object.NewSet()
	for i, u := range desired {
		if u == nil {
			return nil, fmt.Errorf("diff: desired object %d is nil", i)
		}
		id := object.IDOf(u)
		if declared.Has(id) {
			return nil, fmt.Errorf("diff: %s: %w", id.KubectlString(), object.ErrDuplicate)
		}
		declared.Add(id)
	}

	p := &Plan{masker: m, reportForeign: d.opts.ReportForeign}
	changes := make([]*Change, len(desired))
	errs := make([]error, len(desired))
	workers := d.opts.Concurrency
	if workers <= 0 {
		workers = parallel.DefaultLimit
	}
	// Every object gets a change or an error, so no diff is skipped when ctx ends:
	// each one sees ctx itself.
	pd := d
	if s, ok := d.engine.(setEngine); ok {
		c := *d
		c.engine = s.forSet(in.Desired)
		pd = &c
	}
	parallel.Do(context.WithoutCancel(ctx), workers, len(desired), func(i int) {
		u := desired[i]
		changes[i], errs[i] = pd.Diff(ctx, u, liveOf(live, object.IDOf(u)))
	})

	for i := range changes {
		if errs[i] != nil {
			u := desired[i]
			dir, _ := apply.ParseDirectives(u) // a bad annotation is errs[i] itself
			// As apply's dry run: the namespace and the CRDs come first in the apply.
			if ns := u.GetNamespace(); ssa.NamespacePending(errs[i], ns, declared) {
				p.Changes = append(p.Changes, d.pending(u, fmt.Sprintf("its namespace %q is created by this set", ns)))
				continue
			}
			if ns := u.GetNamespace(); dir.CreateNamespace && ssa.IsNamespaceNotFound(errs[i], ns) {
				p.Changes = append(p.Changes, d.pending(u, fmt.Sprintf("its namespace %q is created for it (CreateNamespace=true)", ns)))
				continue
			}
			if gk := u.GroupVersionKind().GroupKind(); meta.IsNoMatchError(errs[i]) && kinds.Defines(gk) {
				p.Changes = append(p.Changes, d.pending(u, fmt.Sprintf("its kind %s is defined by a CustomResourceDefinition of this set", gk)))
				continue
			}
			if gk := u.GroupVersionKind().GroupKind(); meta.IsNoMatchError(errs[i]) && dir.SkipDryRunOnMissingResource {
				p.Changes = append(p.Changes, d.pending(u, fmt.Sprintf("the cluster does not serve its kind %s (SkipDryRunOnMissingResource=true)", gk)))
				continue
			}
			var oe *object.Error
			if !errors.As(errs[i], &oe) {
				oe = &object.Error{ID: object.IDOf(u), Err: errs[i]}
			}
			if ssa.IsNamespaceNotFound(oe.Err, u.GetNamespace()) {
				oe.Err = fmt.Errorf("%w, and the set does not create it", oe.Err)
			}
			oe.Origin = originOf(in, i, oe.ID)
			p.Failed = append(p.Failed, oe)
			continue
		}
		changes[i].Origin = originOf(in, i, changes[i].ID)
		p.Changes = append(p.Changes, changes[i])
	}
	for _, u := range in.Desired {
		// A cluster-scoped object declared with a namespace is the live object
		// without one, not a prune candidate.
		if id := object.IDOf(u); id.Namespace != "" && live[id] == nil {
			if id.Namespace = ""; live[id] != nil {
				declared.Add(id)
			}
		}
	}
	for _, id := range object.NewSet(in.Inventory...).Difference(declared) {
		p.Changes = append(p.Changes, d.deletion(id, live[id], len(desired) == 0))
	}
	p.sortAndCount()
	if len(p.Failed) == 0 {
		return p, nil
	}
	all := make([]error, len(p.Failed))
	for i, e := range p.Failed {
		all[i] = e
	}
	return p, errors.Join(all...)
}
