package reconcile

import (
	"slices"
	"strings"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// Change is the plan for one object.
type Change struct {
	ID object.ID
	// Action is what an apply would do: diff.None (in sync), diff.Create,
	// diff.Update, or diff.Delete (the inventory owns the object and the set no
	// longer declares it; a pass with pruning deletes it).
	Action diff.Action
	// Paths are the fields an apply would add, change or remove, sorted (Update only).
	Paths []string
	// Origin is the file the desired object came from (empty for Delete).
	Origin object.Origin
}

// Plan is what applying the desired set would change, one [Change] per object in
// [object.Compare] order, and the objects that could not be compared.
type Plan struct {
	Changes []Change
	Failed  []ObjectError
}

// Changed returns the changes other than InSync.
func (p *Plan) Changed() []Change {
	if p == nil {
		return nil
	}
	var out []Change
	for _, c := range p.Changes {
		if c.Action != diff.None {
			out = append(out, c)
		}
	}
	return out
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changed()) == 0 }

// Count returns the number of changes with action a.
func (p *Plan) Count(a diff.Action) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, c := range p.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// sort orders the changes and failures by object.
func (p *Plan) sort() {
	slices.SortStableFunc(p.Changes, func(a, b Change) int { return object.Compare(a.ID, b.ID) })
	slices.SortStableFunc(p.Failed, func(a, b ObjectError) int { return object.Compare(a.ID, b.ID) })
}

// ObjectError is an object a stage failed on, and why.
type ObjectError struct {
	ID  object.ID
	Err error
}

// Error returns the cause, prefixed with the object as kubectl names it
// ("deployment.apps/web -n shop: …") unless the cause names it already, as the
// errors of packages diff and apply do.
func (e ObjectError) Error() string {
	msg, name := e.Err.Error(), e.ID.KubectlString()
	if strings.Contains(msg, name) {
		return msg
	}
	return name + ": " + msg
}

// Unwrap returns the cause.
func (e ObjectError) Unwrap() error { return e.Err }

// Outcome is what happened to one object during apply or prune: the actions of
// package apply, so an [Applier] of any kind reports in the same terms.
type Outcome = apply.Action

// The outcomes of an [ObjectResult] (see the apply package for their meaning).
const (
	Created    = apply.Created
	Configured = apply.Configured
	Unchanged  = apply.Unchanged
	Recreated  = apply.Recreated
	Pruned     = apply.Pruned
	Skipped    = apply.Skipped
	Failed     = apply.Failed
)

// ObjectResult is the outcome for one object of an apply or a prune.
type ObjectResult struct {
	ID      object.ID
	Outcome Outcome
	// Reason explains Skipped, Recreated and Failed.
	Reason string
	// Err is set for Failed.
	Err error
	// DryRun is true when nothing was written.
	DryRun bool
}

// clone returns a copy of p whose lists can be changed without changing p's.
func (p *Plan) clone() *Plan {
	return &Plan{Changes: slices.Clone(p.Changes), Failed: slices.Clone(p.Failed)}
}
