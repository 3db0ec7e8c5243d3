package diff

import (
	"errors"
	"strings"

	"github.com/gitopskit/gitopskit/object"
)

// ErrNoFieldManager is returned when [Options.FieldManager] is empty.
var ErrNoFieldManager = errors.New("diff: no field manager")

// ConflictError reports that an apply without Force would fail because other field
// managers own fields the desired object sets to different values.
type ConflictError struct {
	// ID names the object.
	ID object.ID
	// Conflicts lists each conflicting field with the manager that owns it, as
	// `.spec.replicas (owned by "hpa-controller")`.
	Conflicts []string
}

// Error lists the conflicts.
func (e *ConflictError) Error() string {
	return "apply conflicts: " + strings.Join(e.Conflicts, "; ")
}

// ObjectError is a failure to diff one object.
type ObjectError struct {
	// ID names the object.
	ID object.ID
	// Origin is where the object was declared, when [Input.Origins] said.
	Origin object.Origin
	// Err is the cause. For Secrets, any Secret value it contained is masked.
	Err error
}

// Error names the object and, when known, its file and line, then the cause.
func (e *ObjectError) Error() string {
	where := e.ID.KubectlString()
	if e.Origin.File != "" {
		where += " (" + e.Origin.String() + ")"
	}
	return "diff " + where + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ObjectError) Unwrap() error { return e.Err }
