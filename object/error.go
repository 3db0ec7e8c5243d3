package object

import "strings"

// Error is a failure concerning one object: a diff that could not be computed, an
// apply the API server refused. Packages diff and reconcile report failed objects
// with it, so a caller handles them the same way wherever they come from.
type Error struct {
	// ID names the object.
	ID ID
	// Origin is where the object was declared; the zero Origin when unknown.
	Origin Origin
	// Err is the cause.
	Err error
}

// Error returns the cause after the object's file and line, as a compiler's errors
// read, and the object as kubectl names it, unless the cause names it already:
// "app.yaml:3: deployment.apps/web -n shop: …".
func (e *Error) Error() string {
	msg, name := e.Err.Error(), e.ID.KubectlString()
	if !strings.Contains(msg, name) {
		msg = name + ": " + msg
	}
	if e.Origin.File != "" && !strings.Contains(msg, e.Origin.String()) {
		msg = e.Origin.String() + ": " + msg
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
