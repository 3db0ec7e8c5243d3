package reconcile

import (
	"errors"
	"fmt"
)

// Stage is a step of a pass.
type Stage string

// The stages of a pass, in order.
const (
	StageSource    Stage = "source"
	StageRender    Stage = "render"
	StageTransform Stage = "transform"
	StageDiff      Stage = "diff"
	StageApply     Stage = "apply"
	StagePrune     Stage = "prune"
	StageHealth    Stage = "health"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrEmptySet: the desired set is empty and pruning is on, which would delete
	// every object of the set; set Options.AllowEmpty to allow it.
	ErrEmptySet = errors.New("desired set is empty: refusing to prune every object (AllowEmpty is off)")
)

// StageError is the error of a pass: the stage that failed, the revision it worked
// on (empty when the source failed) and the cause, which names the file or object.
type StageError struct {
	Stage    Stage
	Revision string
	Err      error
}

// Error returns "reconcile <revision>: <stage>: <cause>".
func (e *StageError) Error() string {
	if e.Revision == "" {
		return fmt.Sprintf("reconcile: %s: %v", e.Stage, e.Err)
	}
	return fmt.Sprintf("reconcile %s: %s: %v", e.Revision, e.Stage, e.Err)
}

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// FailedStage returns the stage err failed in, or "" when err is not a [*StageError].
func FailedStage(err error) Stage {
	var se *StageError
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}
