package reconcile

import (
	"slices"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// clonePlan returns a copy of p whose changes and failures can be changed without
// changing p's.
func clonePlan(p *diff.Plan) *diff.Plan {
	c := *p
	c.Changes = make([]*diff.Change, len(p.Changes))
	for i, ch := range p.Changes {
		cp := *ch
		c.Changes[i] = &cp
	}
	c.Failed = make([]*object.Error, len(p.Failed))
	for i, f := range p.Failed {
		cp := *f
		c.Failed[i] = &cp
	}
	return &c
}

// sortPlan orders the changes and failures of p by object.
func sortPlan(p *diff.Plan) {
	slices.SortStableFunc(p.Changes, func(a, b *diff.Change) int { return object.Compare(a.ID, b.ID) })
	slices.SortStableFunc(p.Failed, func(a, b *object.Error) int { return object.Compare(a.ID, b.ID) })
}
