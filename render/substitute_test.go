package render

import (
	"errors"
	"strings"
	"testing"
)

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"NAME": "shop", "EMPTY": "", "_x1": "u"}
	for _, tc := range []struct {
		in, want string
		strict   bool
		err      error
	}{
		{in: "plain", want: "plain"},
		{in: "${NAME}", want: "shop"},
		{in: "a-${NAME}-b-${_x1}", want: "a-shop-b-u"},
		{in: "${MISSING}", want: ""},
		{in: "${MISSING}", strict: true, err: ErrUnset},
		{in: "${MISSING:=fallback}", strict: true, want: "fallback"},
		{in: "${MISSING:-fallback}", want: "fallback"},
		{in: "${EMPTY:=fallback}", want: "fallback"},
		{in: "${EMPTY}", strict: true, want: ""},
		{in: "${NAME:=fallback}", want: "shop"},
		{in: "$${NAME}", want: "${NAME}"},
		{in: "$$${NAME}", want: "$${NAME}"},
		{in: "$NAME ${ ${1A} ${A-B} ${NAME", want: "$NAME ${ ${1A} ${A-B} ${NAME"},
		{in: "cost: $5", want: "cost: $5"},
		{in: "${NAME}$", want: "shop$"},
	} {
		got, err := substitute(tc.in, vars, tc.strict, newBudget(DefaultMaxBytes))
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("substitute(%q, strict=%v) = %q, %v; want %q, %v", tc.in, tc.strict, got, err, tc.want, tc.err)
		}
	}
}

func FuzzSubstitute(f *testing.F) {
	for _, s := range []string{"${A}", "$${A}", "${A:=x}", "${A:-}", "$", "${", "${}", "a${B}c${A}", "${A:=${B}}"} {
		f.Add(s, false)
	}
	vars := map[string]string{"A": "alpha", "B": ""}
	f.Fuzz(func(t *testing.T, s string, strict bool) {
		got, err := substitute(s, vars, strict, newBudget(DefaultMaxBytes))
		if err != nil {
			if !strict || !errors.Is(err, ErrUnset) {
				t.Fatalf("substitute(%q, %v): unexpected error %v", s, strict, err)
			}
			return
		}
		// Text without '$' is never changed, and substitution is a no-op on it.
		if !strings.Contains(s, "$") && got != s {
			t.Fatalf("substitute(%q) = %q, changed text without references", s, got)
		}
		// With no variables and nothing to escape, references vanish and other text stays.
		if !strings.Contains(s, "${") && got != s {
			t.Fatalf("substitute(%q) = %q, changed text without ${", s, got)
		}
		// Substitution never grows the text by more than the values it inserts.
		if len(got) > len(s)*(1+len("alpha")) {
			t.Fatalf("substitute(%q) = %q grew too much", s, got)
		}
	})
}
