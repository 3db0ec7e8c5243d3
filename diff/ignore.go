package diff

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
)

// IgnoreRule removes fields from the comparison for the objects it selects, like
// Argo CD's ignoreDifferences. Empty selector fields match anything.
type IgnoreRule struct {
	// Group, Kind, Namespace and Name select objects; "" matches any.
	Group, Kind, Namespace, Name string
	// JSONPointers are RFC 6901 pointers, such as "/spec/replicas" or
	// "/metadata/annotations/example.com~1hash". A numeric token indexes a list.
	JSONPointers []string
	// JSONPaths are simple JSONPath expressions: fields (".spec.replicas" or
	// "$.spec.replicas"), quoted keys ("['example.com/hash']"), indexes ("[0]"),
	// wildcards ("[*]") and equality filters ("[?(@.name=='web')]").
	JSONPaths []string
}

func (r *IgnoreRule) matches(id object.ID) bool {
	return (r.Group == "" || r.Group == id.Group) && (r.Kind == "" || r.Kind == id.Kind) &&
		(r.Namespace == "" || r.Namespace == id.Namespace) && (r.Name == "" || r.Name == id.Name)
}

type segKind int

const (
	segKey      segKind = iota // a map key, or a list index when numeric (JSON pointer)
	segField                   // a map key
	segIndex                   // a list index
	segWildcard                // every map value or list item
	segFilter                  // the list items whose field equals a value
)

type segment struct {
	kind  segKind
	name  string // key, or the filter's field
	value string // the filter's value
	index int
}

// path is a compiled ignore path.
type path []segment

// compiledRule is an IgnoreRule with its paths parsed.
type compiledRule struct {
	IgnoreRule
	paths []path
}

func compileRules(rules []IgnoreRule) ([]compiledRule, error) {
	out := make([]compiledRule, 0, len(rules))
	for i, r := range rules {
		c := compiledRule{IgnoreRule: r}
		for _, p := range r.JSONPointers {
			pp, err := parsePointer(p)
			if err != nil {
				return nil, fmt.Errorf("ignore rule %d: JSON pointer %q: %w", i, p, err)
			}
			c.paths = append(c.paths, pp)
		}
		for _, p := range r.JSONPaths {
			pp, err := parseJSONPath(p)
			if err != nil {
				return nil, fmt.Errorf("ignore rule %d: JSONPath %q: %w", i, p, err)
			}
			c.paths = append(c.paths, pp)
		}
		out = append(out, c)
	}
	return out, nil
}

// parsePointer parses an RFC 6901 JSON pointer.
func parsePointer(s string) (path, error) {
	if s == "" {
		return nil, fmt.Errorf("empty pointer")
	}
	if s[0] != '/' {
		return nil, fmt.Errorf("must start with /")
	}
	var p path
	for _, tok := range strings.Split(s[1:], "/") {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(tok, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("bad escape in %q", tok)
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		p = append(p, segment{kind: segKey, name: tok})
	}
	return p, nil
}

// parseJSONPath parses the JSONPath subset described on IgnoreRule.JSONPaths.
func parseJSONPath(s string) (path, error) {
	in := strings.TrimPrefix(s, "$")
	if in == "" {
		return nil, fmt.Errorf("empty path")
	}
	var p path
	for i := 0; i < len(in); {
		switch in[i] {
		case '.':
			j := i + 1
			for j < len(in) && in[j] != '.' && in[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("empty field name at offset %d", i)
			}
			p = append(p, segment{kind: segField, name: in[i+1 : j]})
			i = j
		case '[':
			end, seg, err := parseBracket(in, i)
			if err != nil {
				return nil, err
			}
			p = append(p, seg)
			i = end
		default:
			if i == 0 { // a leading field without a dot: "spec.replicas"
				in = "." + in
				continue
			}
			return nil, fmt.Errorf("unexpected %q at offset %d", in[i], i)
		}
	}
	return p, nil
}

// parseBracket parses the bracket expression starting at in[i] and returns the
// offset just past it.
func parseBracket(in string, i int) (int, segment, error) {
	rest := in[i+1:]
	switch {
	case strings.HasPrefix(rest, "*]"):
		return i + 3, segment{kind: segWildcard}, nil
	case strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, `"`):
		key, n, err := quoted(rest)
		if err != nil {
			return 0, segment{}, fmt.Errorf("at offset %d: %w", i, err)
		}
		if !strings.HasPrefix(rest[n:], "]") {
			return 0, segment{}, fmt.Errorf("missing ] at offset %d", i+1+n)
		}
		return i + 1 + n + 1, segment{kind: segField, name: key}, nil
	case strings.HasPrefix(rest, "?(@."):
		j := i + 1 + len("?(@.")
		eq := strings.Index(in[j:], "==")
		if eq <= 0 {
			return 0, segment{}, fmt.Errorf("filter at offset %d: want [?(@.field=='value')]", i)
		}
		field := strings.TrimSpace(in[j : j+eq])
		k := skipSpaces(in, j+eq+2)
		val, n, err := quoted(in[k:])
		if err != nil {
			return 0, segment{}, fmt.Errorf("filter at offset %d: %w", i, err)
		}
		k = skipSpaces(in, k+n)
		if !strings.HasPrefix(in[k:], ")]") {
			return 0, segment{}, fmt.Errorf("filter at offset %d: missing )]", i)
		}
		return k + 2, segment{kind: segFilter, name: field, value: val}, nil
	default:
		close := strings.IndexByte(rest, ']')
		if close < 0 {
			return 0, segment{}, fmt.Errorf("missing ] at offset %d", i)
		}
		n, err := strconv.Atoi(rest[:close])
		if err != nil || n < 0 {
			return 0, segment{}, fmt.Errorf("bad index %q at offset %d", rest[:close], i)
		}
		return i + 1 + close + 1, segment{kind: segIndex, index: n}, nil
	}
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// quoted reads a '…' or "…" string at the start of s (no escapes) and returns it
// and the length consumed.
func quoted(s string) (string, int, error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", 0, fmt.Errorf("want a quoted string")
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", 0, fmt.Errorf("unterminated string")
	}
	return s[1 : 1+end], end + 2, nil
}

// remove deletes every field p selects below v.
func (p path) remove(v any) {
	if len(p) == 0 {
		return
	}
	seg, last := p[0], len(p) == 1
	switch t := v.(type) {
	case map[string]any:
		switch seg.kind {
		case segKey, segField:
			if last {
				delete(t, seg.name)
			} else if c, ok := t[seg.name]; ok {
				p[1:].remove(c)
			}
		case segWildcard:
			for k, c := range t {
				if last {
					delete(t, k)
				} else {
					p[1:].remove(c)
				}
			}
		}
	case []any:
		keep := t[:0:0]
		for i, c := range t {
			if !seg.selects(i, c) {
				keep = append(keep, c)
				continue
			}
			if !last {
				p[1:].remove(c)
				keep = append(keep, c)
			}
		}
		if last {
			// Removing list items shifts the others; the caller sees the list
			// without them. The parent keeps the same slice header only if we
			// write back in place.
			copy(t, keep)
			for i := len(keep); i < len(t); i++ {
				t[i] = removedItem{}
			}
		}
	}
}

// removedItem marks a list item an ignore rule removed; compactLists drops it.
type removedItem struct{}

func (s segment) selects(i int, item any) bool {
	switch s.kind {
	case segIndex:
		return i == s.index
	case segKey:
		n, err := strconv.Atoi(s.name)
		return err == nil && n == i
	case segWildcard:
		return true
	case segFilter:
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		return fmt.Sprint(m[s.name]) == s.value
	}
	return false
}

// applyIgnore removes the fields the rules select for u's identity from u.
func applyIgnore(u *unstructured.Unstructured, rules []compiledRule) {
	if u == nil || len(rules) == 0 {
		return
	}
	id := object.IDOf(u)
	for i := range rules {
		if !rules[i].matches(id) {
			continue
		}
		for _, p := range rules[i].paths {
			p.remove(u.Object)
		}
	}
	u.Object = compactLists(u.Object).(map[string]any)
}

func compactLists(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = compactLists(c)
		}
	case []any:
		out := t[:0]
		for _, c := range t {
			if _, gone := c.(removedItem); !gone {
				out = append(out, compactLists(c))
			}
		}
		return out
	}
	return v
}
