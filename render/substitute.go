package render

import (
	"fmt"
	"strings"
)

// substitute replaces variable references in s, following Flux's postBuild
// substitution:
//
//   - ${NAME} is the value of NAME; unset, it is "" or, when strict, an error
//     wrapping ErrUnset;
//   - ${NAME:=default} and ${NAME:-default} are the value of NAME, or default when
//     NAME is unset or empty;
//   - $${NAME} is the literal text ${NAME} (an escape);
//   - anything else, including "$NAME" and "${" not followed by a valid name and a
//     closing brace, is left as it is.
//
// A name starts with a letter or underscore and goes on with letters, digits and
// underscores. Text without '$' is returned as it is. Other text is measured
// first and counted against out, which fails with an error wrapping ErrLimit
// before anything is written when the text would exceed it; the text is then
// written once, into a buffer of its exact size.
func substitute(s string, vars map[string]string, strict bool, out *budget) (string, error) {
	if strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	n := 0
	if err := expand(s, vars, strict, func(t string) { n += len(t) }); err != nil {
		return "", err
	}
	if err := out.spend(n); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(n)
	_ = expand(s, vars, strict, func(t string) { b.WriteString(t) }) // no error the first pass did not return
	return b.String(), nil
}

// expand passes the pieces of s with its references replaced to emit, in order.
func expand(s string, vars map[string]string, strict bool, emit func(string)) error {
	for i := 0; i < len(s); {
		if s[i] != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				j = len(s) - i
			}
			emit(s[i : i+j])
			i += j
			continue
		}
		// "$${": an escaped reference, written without its first '$'.
		if strings.HasPrefix(s[i:], "$${") {
			emit("${")
			i += 3
			continue
		}
		ref, n, ok := parseRef(s[i:])
		if !ok {
			emit("$")
			i++
			continue
		}
		v, set := vars[ref.name]
		switch {
		case ref.hasDefault && v == "":
			v = ref.def
		case !set && strict:
			return fmt.Errorf("%w: %s", ErrUnset, ref.name)
		}
		emit(v)
		i += n
	}
	return nil
}

// budget counts the bytes substitution writes against a limit.
type budget struct {
	left, max int64
}

func newBudget(max int64) *budget { return &budget{left: max, max: max} }

// spend takes n bytes from the budget, or fails with an error wrapping ErrLimit.
func (b *budget) spend(n int) error {
	if int64(n) > b.left {
		b.left = 0
		return fmt.Errorf("%w: substitution writes more than %d bytes", ErrLimit, b.max)
	}
	b.left -= int64(n)
	return nil
}

// varRef is a parsed ${NAME} or ${NAME:=default}.
type varRef struct {
	name       string
	def        string
	hasDefault bool
}

// parseRef parses the reference at the start of s, which begins with '$', and
// returns it with its length.
func parseRef(s string) (varRef, int, bool) {
	if !strings.HasPrefix(s, "${") {
		return varRef{}, 0, false
	}
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return varRef{}, 0, false
	}
	body := s[2:end]
	var r varRef
	if k := strings.Index(body, ":="); k >= 0 {
		r.def, r.hasDefault, body = body[k+2:], true, body[:k]
	} else if k := strings.Index(body, ":-"); k >= 0 {
		r.def, r.hasDefault, body = body[k+2:], true, body[:k]
	}
	if !validName(body) {
		return varRef{}, 0, false
	}
	r.name = body
	return r, end + 1, true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
