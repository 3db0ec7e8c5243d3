package apply

import (
	"github.com/gitopskit/gitopskit/object"
)

// Action is what happened to one object.
type Action string

// Actions of an [Event].
const (
	// Created: the object did not exist and was created.
	Created Action = "created"
	// Configured: the object existed and the apply changed it.
	Configured Action = "configured"
	// Unchanged: the object already was as desired; no write was needed.
	Unchanged Action = "unchanged"
	// Recreated: the object was deleted and created again to change an immutable field.
	Recreated Action = "recreated"
	// Pruned: the object left the desired set and was deleted.
	Pruned Action = "pruned"
	// Skipped: the object was left alone; Reason says why.
	Skipped Action = "skipped"
	// Failed: applying or pruning the object failed, or a hook failed; Err says why.
	Failed Action = "failed"
	// Succeeded: a hook was done and healthy (a Job complete, a Pod succeeded).
	Succeeded Action = "succeeded"
	// Deleted: a hook was deleted by its delete policy.
	Deleted Action = "deleted"
)

// WrittenUnchanged is the Reason of an Unchanged event whose object was written
// because the apply could not tell it was unchanged without asking the API server.
const WrittenUnchanged = "applied; the API server changed nothing"

// Event is the result for one object. Events are sent through
// [ApplyOptions.OnEvent] as they happen and collected in [Result.Events].
type Event struct {
	ID     object.ID
	Action Action
	// Stage and Wave place the object in the apply order (for pruned objects, where
	// it was found).
	Stage Stage
	Wave  int
	// Reason is a short human explanation for Skipped, Recreated and Failed, and
	// the policy of a hook's Deleted.
	Reason string
	// Err is set for Failed.
	Err error
	// DryRun is true when nothing was written.
	DryRun bool
	// Phase is set on the events of hooks (see [ApplyOptions.Hooks]): the phase
	// the hook ran in. It is empty for the set's objects.
	Phase HookPhase
}

// Result is the outcome of one [Manager.Apply]: an event per object, in the order
// they completed within each batch, and counts per action. With
// [ApplyOptions.Hooks], the events of hooks (their Phase set) are among them, and
// counted too; [Result.Hooks] sums them up per hook.
type Result struct {
	Events []Event
	// Warnings are conditions that did not fail the apply but made it slower or
	// less certain, such as a list of live objects that failed (forbidden, say), so
	// its objects were applied without checking whether they had changed.
	Warnings []string
}

// Count returns how many events have action a.
func (r *Result) Count(a Action) int {
	n := 0
	for _, e := range r.Events {
		if e.Action == a {
			n++
		}
	}
	return n
}

// Summary returns the number of events per action.
func (r *Result) Summary() map[Action]int {
	s := map[Action]int{}
	for _, e := range r.Events {
		s[e.Action]++
	}
	return s
}

// Changed reports whether any object was created, configured, recreated or pruned.
func (r *Result) Changed() bool {
	for _, e := range r.Events {
		switch e.Action {
		case Created, Configured, Recreated, Pruned:
			return true
		}
	}
	return false
}
