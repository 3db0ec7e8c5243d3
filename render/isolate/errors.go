package isolate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/source"
)

// ErrNoHook means the program started as a render child did not run [Child]:
// its main lacks the hook, or the process that wanted to start a child is itself
// such a child.
var ErrNoHook = errors.New("the program does not call isolate.Child at the top of main")

// The limits a [LimitError] names.
const (
	LimitMemory = "memory"
	LimitCPU    = "cpu"
	LimitWall   = "wall"
	LimitOutput = "output"
	LimitInput  = "input"
)

// LimitError reports a child killed, or a render refused, for exceeding one of
// [Limits]. It matches render.ErrLimit with errors.Is, and the context's error
// when the context's deadline was the wall limit.
type LimitError struct {
	// Dir is the directory being rendered.
	Dir string
	// Limit is the limit exceeded: LimitMemory, LimitCPU, LimitWall, LimitOutput
	// or LimitInput.
	Limit string
	// Value is the limit, as a person reads it ("1073741824 bytes", "1m0s").
	Value string
	// Detail is what the child said, when it said something ("stack overflow").
	Detail string
	// Err is the context's error when its deadline ended the render, else nil.
	Err error
}

// Error implements error.
func (e *LimitError) Error() string {
	s := fmt.Sprintf("render %s: child exceeded its %s limit (%s)", e.Dir, e.Limit, e.Value)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns render.ErrLimit and, when set, Err.
func (e *LimitError) Unwrap() []error {
	if e.Err != nil {
		return []error{render.ErrLimit, e.Err}
	}
	return []error{render.ErrLimit}
}

// CrashError reports a child that died without a result for another reason than
// a limit: a Go runtime fatal error, a signal, an unexpected exit.
type CrashError struct {
	// Dir is the directory being rendered.
	Dir string
	// Status is how the child ended ("exit status 2", "signal: segmentation fault").
	Status string
	// Stderr holds the last lines the child wrote to its standard error, at most
	// stderrLines lines of stderrLineBytes bytes.
	Stderr []string
}

// Error implements error.
func (e *CrashError) Error() string {
	s := fmt.Sprintf("render %s: child %s", e.Dir, e.Status)
	if len(e.Stderr) > 0 {
		s += ":\n\t" + strings.Join(e.Stderr, "\n\t")
	}
	return s
}

// sentinels are the errors a child's error keeps for errors.Is in the parent, by
// the name that crosses the boundary.
var sentinels = []struct {
	name string
	err  error
}{
	{"render.ErrLimit", render.ErrLimit},
	{"object.ErrLimit", object.ErrLimit},
	{"render.ErrOutsideRoot", render.ErrOutsideRoot},
	{"render.ErrRemote", render.ErrRemote},
	{"render.ErrNoRenderer", render.ErrNoRenderer},
	{"render.ErrUnset", render.ErrUnset},
	{"render.ErrUnknownKind", render.ErrUnknownKind},
	{"object.ErrDuplicate", object.ErrDuplicate},
	{"object.ErrInvalid", object.ErrInvalid},
	{"helm.ErrChartNotFound", helm.ErrChartNotFound},
	{"source.ErrSymlinkEscape", source.ErrSymlinkEscape},
	{"fs.ErrNotExist", fs.ErrNotExist},
	{"fs.ErrPermission", fs.ErrPermission},
	{"context.Canceled", context.Canceled},
	{"context.DeadlineExceeded", context.DeadlineExceeded},
}

// wireError is a render error as it crosses from the child: its message, the
// sentinels it matches, and the origin of an object.DecodeError in it.
type wireError struct {
	Message string         `json:"message"`
	Is      []string       `json:"is,omitempty"`
	Origin  *object.Origin `json:"origin,omitempty"`
	// Cause is the DecodeError's own message, when Origin is set.
	Cause string `json:"cause,omitempty"`
}

func toWire(err error) *wireError {
	w := &wireError{Message: err.Error()}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			w.Is = append(w.Is, s.name)
		}
	}
	var de *object.DecodeError
	if errors.As(err, &de) {
		w.Origin, w.Cause = &de.Origin, de.Err.Error()
	}
	return w
}

// childError is a render error of the child, rebuilt in the parent.
type childError struct {
	msg  string
	errs []error
}

func (e *childError) Error() string   { return e.msg }
func (e *childError) Unwrap() []error { return e.errs }

// sentinelError is the cause of a rebuilt DecodeError: its message, matching the
// sentinels of the whole error.
type sentinelError struct {
	msg  string
	errs []error
}

func (e *sentinelError) Error() string   { return e.msg }
func (e *sentinelError) Unwrap() []error { return e.errs }

func (w *wireError) err() error {
	var errs []error
	for _, name := range w.Is {
		for _, s := range sentinels {
			if s.name == name {
				errs = append(errs, s.err)
			}
		}
	}
	if w.Origin != nil {
		return &childError{msg: w.Message, errs: []error{&object.DecodeError{Origin: *w.Origin, Err: &sentinelError{msg: w.Cause, errs: errs}}}}
	}
	return &childError{msg: w.Message, errs: errs}
}
