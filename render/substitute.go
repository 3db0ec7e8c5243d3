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
// underscores.
func substitute(s string, vars map[string]string, strict bool) (string, error) {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		// "$${": an escaped reference, written without its first '$'.
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		ref, n, ok := parseRef(s[i:])
		if !ok {
			b.WriteByte('$')
			i++
			continue
		}
		v, set := vars[ref.name]
		switch {
		case ref.hasDefault && v == "":
			v = ref.def
		case !set && strict:
			return "", fmt.Errorf("%w: %s", ErrUnset, ref.name)
		}
		b.WriteString(v)
		i += n
	}
	return b.String(), nil
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
