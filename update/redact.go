package update

import (
	"strings"

	"github.com/gitopskit/gitopskit/source/git"
)

// secrets are strings that must not appear in an error message.
type secrets []string

func (s secrets) redact(msg string) string {
	msg = git.RedactURL(msg)
	for _, v := range s {
		if len(v) >= 3 {
			msg = strings.ReplaceAll(msg, v, "***")
		}
	}
	return msg
}

// wrap returns err with a redacted message; errors.Is and errors.As still see the
// cause, whose own message a caller should not print.
func (s secrets) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: s.redact(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
