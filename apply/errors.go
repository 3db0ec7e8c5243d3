package apply

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gitopskit/gitopskit/object"
)

// ErrEmptySet is returned when an apply with an inventory is asked to apply no
// objects: that would prune everything the inventory holds, which is almost always
// the result of a failed render. Set [ApplyOptions.AllowEmpty] to mean it.
var ErrEmptySet = errors.New("desired set is empty")

// ErrNotMember is wrapped by the error of an object that an inventory would prune but
// that does not carry the inventory's membership labels.
var ErrNotMember = errors.New("object does not carry the inventory's membership labels")

// ErrForeignInventory is returned when an inventory's parent object is managed by
// another tool or carries another identity.
var ErrForeignInventory = errors.New("inventory is managed by another tool")

// ConflictError reports that server-side apply refused, or would refuse, to take
// fields owned by other field managers: the error of an apply, and of a diff that
// predicts it (package diff). Apply with [ApplyOptions.Force] to take them.
type ConflictError struct {
	ID object.ID
	// Conflicts are the conflicting fields, sorted by field.
	Conflicts []Conflict
	// Err is the API server's error; nil when a diff predicted the conflict
	// without asking the server.
	Err error
}

// Conflict is one field another field manager owns.
type Conflict struct {
	// Field is the field's path as the API server names it (".spec.replicas",
	// ".spec.containers[name=\"web\"].image").
	Field string
	// Manager is the field manager that owns it; empty when the server did not say.
	Manager string
}

// NewConflictError returns the ConflictError of id for conflicts, sorted by field.
func NewConflictError(id object.ID, conflicts []Conflict, err error) *ConflictError {
	slices.SortFunc(conflicts, func(a, b Conflict) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Manager, b.Manager))
	})
	return &ConflictError{ID: id, Conflicts: conflicts, Err: err}
}

// Managers returns the field managers of the conflicts, sorted and without repeats.
func (e *ConflictError) Managers() []string {
	var ms []string
	for _, c := range e.Conflicts {
		if c.Manager != "" {
			ms = append(ms, c.Manager)
		}
	}
	slices.Sort(ms)
	return slices.Compact(ms)
}

// Fields returns the conflicting fields, sorted.
func (e *ConflictError) Fields() []string {
	fs := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		fs[i] = c.Field
	}
	return fs
}

// Error names the object, then each field with the manager that owns it.
func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = c.Field
		if c.Manager != "" {
			parts[i] += fmt.Sprintf(" (owned by %q)", c.Manager)
		}
	}
	return fmt.Sprintf("apply %s: conflict with other field managers on %s", e.ID.KubectlString(), strings.Join(parts, ", "))
}

// Unwrap returns the API server's error, for errors.Is and errors.As.
func (e *ConflictError) Unwrap() error { return e.Err }

// ImmutableError reports that an apply would change a field the API server does not
// let change after creation (a Job's template, a Service's clusterIP, a Deployment's
// selector). Apply with [ApplyOptions.Recreate], or annotate the object with
// `gitopskit.io/recreate: enabled`, to delete and recreate it instead.
type ImmutableError struct {
	ID object.ID
	// Fields are the immutable field paths the API server named ("spec.template").
	Fields []string
	// Err is the API server's error.
	Err error
}

// Error implements error.
func (e *ImmutableError) Error() string {
	return fmt.Sprintf("apply %s: immutable field(s) %s changed; recreate the object to apply it", e.ID.KubectlString(),
		strings.Join(e.Fields, ", "))
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *ImmutableError) Unwrap() error { return e.Err }

// CycleError reports a dependency cycle among the objects of a set.
type CycleError struct {
	// Cycle lists the objects of the cycle, starting and ending with the same one.
	Cycle []object.ID
}

// Error implements error.
func (e *CycleError) Error() string {
	parts := make([]string, len(e.Cycle))
	for i, id := range e.Cycle {
		parts[i] = id.KubectlString()
	}
	return "dependency cycle: " + strings.Join(parts, " -> ")
}

// DependencyError reports a dependency on an object that is not in the set.
type DependencyError struct {
	ID        object.ID
	DependsOn object.ID
}

// Error implements error.
func (e *DependencyError) Error() string {
	return fmt.Sprintf("%s depends on %s, which is not in the set", e.ID.KubectlString(), e.DependsOn.KubectlString())
}

// OwnershipError reports an object of the set that is already a member of another
// inventory (its membership label names another one). Apply with
// [ApplyOptions.Adopt] to take it over.
type OwnershipError struct {
	ID object.ID
	// Label is the membership label, Owner the value it has on the live object.
	Label, Owner string
}

// Error implements error.
func (e *OwnershipError) Error() string {
	return fmt.Sprintf("apply %s: it belongs to another inventory (%s=%s)", e.ID.KubectlString(), e.Label, e.Owner)
}
