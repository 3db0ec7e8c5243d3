package reconcile

import (
	"time"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

// Result is what one pass found and did. A failed pass returns its Result too, filled
// up to the stage that failed.
type Result struct {
	// Mode is the mode the pass ran in.
	Mode Mode
	// Revision and Digest identify the artifact (see source.Artifact).
	Revision string
	Digest   string
	// Rendered is false when the render was skipped because the artifact's digest
	// and the render options were those of the previous pass.
	Rendered bool
	// Desired is the number of objects the revision declares.
	Desired int
	// Plan is the change per object the pass found before writing.
	Plan *diff.Plan
	// Drift lists the objects out of sync when the pass started: those the plan
	// creates, updates or deletes, in [object.Compare] order.
	Drift []object.ID
	// Wrote is true when the pass applied or pruned (not in a dry run).
	Wrote bool
	// NotApplied says why the pass did not apply, when it did not.
	NotApplied Skip
	// Objects is the outcome per object of the apply and prune stages, in the order
	// they happened, with those of hooks (Phase set; see Hooks).
	Objects []apply.Event
	// Health is the health of the desired set (the worst object's) and Healthy the
	// status per object (see health.Aggregate); both are empty when no health
	// checker is configured.
	Health        health.Status
	HealthObjects map[object.ID]health.Status
	// Durations is the time each stage that ran took.
	Durations map[Stage]time.Duration
}

// InSync reports whether the cluster matched the desired state when the pass started.
func (r *Result) InSync() bool { return len(r.Drift) == 0 }

// Applied returns the objects created, configured or recreated.
func (r *Result) Applied() []object.ID {
	return r.with(apply.Created, apply.Configured, apply.Recreated)
}

// Pruned returns the objects deleted by the prune stage.
func (r *Result) Pruned() []object.ID { return r.with(apply.Pruned) }

// Skipped returns the objects the apply or prune left alone.
func (r *Result) Skipped() []object.ID { return r.with(apply.Skipped) }

// Failed returns the objects the apply or prune failed on.
func (r *Result) Failed() []object.ID { return r.with(apply.Failed) }

// Hooks returns what happened to each hook of the pass (see
// apply.HookResults); Applied, Pruned, Skipped and Failed list the set's objects
// only.
func (r *Result) Hooks() []apply.HookResult { return apply.HookResults(r.Objects) }

func (r *Result) with(actions ...apply.Action) []object.ID {
	var out []object.ID
	for _, o := range r.Objects {
		if o.Phase != "" {
			continue
		}
		for _, want := range actions {
			if o.Action == want {
				out = append(out, o.ID)
			}
		}
	}
	return out
}

// Duration returns the total time of the stages that ran.
func (r *Result) Duration() time.Duration {
	var d time.Duration
	for _, s := range r.Durations {
		d += s
	}
	return d
}

// EventKind says what an [Event] reports.
type EventKind int

const (
	// StageStarted: Stage begins.
	StageStarted EventKind = iota
	// StageFinished: Stage ended after Duration, with Err when it failed.
	StageFinished
	// ObjectDone: Object is the outcome of one object in the apply or prune stage.
	ObjectDone
	// HealthChanged: the object ID's health became Health while waiting.
	HealthChanged
)

// Event is progress of a pass, for a CLI or metrics; see [Options.OnEvent].
type Event struct {
	Kind     EventKind
	Stage    Stage
	Duration time.Duration
	Err      error
	Object   apply.Event
	ID       object.ID
	Health   health.Status
}

// Skip is why a pass did not apply. Its text is for people; compare it with the
// constants.
type Skip string

// The reasons a pass does not apply.
const (
	// SkipInSync: the cluster already is as the revision declares.
	SkipInSync Skip = "in sync"
	// SkipDriftOnly: the mode only reports drift.
	SkipDriftOnly Skip = "mode drift-only"
	// SkipAppliedRevision: mode Apply found drift at the revision it applied
	// last, and leaves it (SelfHeal reverts it).
	SkipAppliedRevision Skip = "drift at an applied revision (mode apply)"
	// SkipOnlyDeletions: the only changes are deletions, and pruning is off.
	SkipOnlyDeletions Skip = "only deletions, and pruning is off"
	// SkipDiffFailed: the diff failed, so nothing was applied.
	SkipDiffFailed Skip = "diff failed"
	// SkipApplyFailed: the apply failed, so nothing was pruned.
	SkipApplyFailed Skip = "apply failed"
)
