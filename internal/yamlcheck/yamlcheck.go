// Package yamlcheck finds what YAML readers disagree on or silently change in a
// document: two keys of a mapping that become the same key, integers that do not
// fit 64 bits, and scalars that YAML 1.1 (sigs.k8s.io/yaml, kubectl) reads as
// something other than the string a person meant. It works on go-yaml v3 nodes,
// which object (on its error path) and kustomize (always) parse anyway.
package yamlcheck

import (
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// Error is a problem at a line of a file (1-based).
type Error struct {
	Line int
	Msg  string
}

// Error returns the message, without the line.
func (e *Error) Error() string { return e.Msg }

// KeyFunc returns the key a reader makes of the mapping key node n.
type KeyFunc func(n *yaml.Node) string

// Value is the KeyFunc of go-yaml v3 and kyaml: the key's text.
func Value(n *yaml.Node) string { return n.Value }

// Key11 is the KeyFunc of sigs.k8s.io/yaml: the key as YAML 1.1 reads it, made a
// string ("yes" and "true" are both "true", 1 and "1" both "1").
func Key11(n *yaml.Node) string {
	v, ok := Read11(n)
	if !ok {
		return n.Value
	}
	if k, err := JSONKey(v); err == nil {
		return k
	}
	return n.Value
}

// JSONKey makes a key that go-yaml v2 decoded into the string sigs.k8s.io/yaml
// makes of it, and fails for keys JSON cannot have (null, maps, lists).
func JSONKey(k any) (string, error) {
	switch k := k.(type) {
	case string:
		return k, nil
	case int:
		return strconv.Itoa(k), nil
	case int64:
		return strconv.FormatInt(k, 10), nil
	case float64:
		// sigs.k8s.io/yaml prints float keys with 32-bit precision.
		switch s := strconv.FormatFloat(k, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", nil
		case "-Inf":
			return "-.inf", nil
		case "NaN":
			return ".nan", nil
		default:
			return s, nil
		}
	case bool:
		return strconv.FormatBool(k), nil
	}
	return "", fmt.Errorf("a key of type %T cannot be a JSON key", k)
}

// Read11 returns the value YAML 1.1 (go-yaml v2, which sigs.k8s.io/yaml and
// kubectl use) reads from the scalar n, and false when n is not a scalar.
func Read11(n *yaml.Node) (any, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		return nil, false
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 ||
		n.Style&yaml.TaggedStyle != 0 && n.ShortTag() == "!!str" {
		return n.Value, true
	}
	var v any
	if err := yamlv2.Unmarshal([]byte(n.Value), &v); err != nil {
		return n.Value, true
	}
	if n.Value == "" {
		return nil, true
	}
	return v, true
}

// NotString says that field, written text, is read as v rather than as a string.
func NotString(field, text string, v any) string {
	what := "a number"
	switch v.(type) {
	case bool:
		what = "the boolean"
	case nil:
		return fmt.Sprintf("%s is null, not a string", field)
	}
	if fmt.Sprint(v) == text {
		return fmt.Sprintf("%s: %s is read as %s, not a string: quote it", field, text, what)
	}
	return fmt.Sprintf("%s: %s is read as %s %v, not a string: quote it", field, text, what, v)
}

// integer matches the integers YAML writes in decimal; others have a base prefix.
var decimal = regexp.MustCompile(`^[-+]?[0-9]+$`)

// TooBig reports whether the text of a plain scalar is an integer, as YAML 1.1 or
// 1.2 writes one (decimal, 0x, 0o, 0b, with _ separators), that does not fit an
// int64 and that readers still read as a number (a decimal one, or one that fits
// a uint64). Readers make such a number a float, and the API server then stores
// something else.
func TooBig(text string) bool {
	if len(text) < 18 {
		return false // 18 decimal digits fit, and so do 0x and 15 hex digits
	}
	plain := strings.ReplaceAll(text, "_", "")
	i := new(big.Int)
	if decimal.MatchString(plain) {
		_, ok := i.SetString(strings.TrimPrefix(plain, "+"), 10)
		return ok && !i.IsInt64()
	}
	// With a base prefix, what fits no uint64 either is a string to go-yaml.
	_, ok := i.SetString(plain, 0)
	return ok && !i.IsInt64() && i.IsUint64()
}

// Options configure [Check].
type Options struct {
	// Key makes a string of a mapping key (default Value).
	Key KeyFunc
	// Line is the line of the file that is line 1 of the document (default 1).
	Line int
	// Keep, when set, leaves the scalars at the field paths where it returns
	// true as they are.
	Keep func(path string) bool
	// LastKeyWins accepts a key written twice (one that YAML 1.1 reads as the
	// same value twice), as a lenient reader does; keys that only become the same
	// string are still refused.
	LastKeyWins bool
}

// Check walks the document root in order and returns the first problem as an
// *Error: two keys of a mapping that opts.Key makes the same, or a plain scalar
// that is an integer beyond int64. Aliases are not followed.
func Check(root *yaml.Node, opts Options) error {
	if opts.Key == nil {
		opts.Key = Value
	}
	if opts.Line == 0 {
		opts.Line = 1
	}
	c := checker{opts: opts, offset: opts.Line - 1, keys: true}
	return c.check(root)
}

// Numbers is [Check] for integers beyond int64 only, in a document whose keys are
// known to be unique, such as one kustomize built.
func Numbers(root *yaml.Node, line int) error {
	c := checker{offset: line - 1}
	return c.check(root)
}

// checker is one walk of Check, or of Numbers (keys false).
type checker struct {
	opts   Options
	offset int
	keys   bool
	stack  []step // where the walk is; the path is made only for an error
}

// step is a mapping key or a sequence index on the way to a node.
type step struct {
	key   *yaml.Node
	index int
}

func (ch *checker) check(n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, e := range n.Content {
			if n.Kind == yaml.SequenceNode {
				ch.stack = append(ch.stack, step{index: i})
			}
			if err := ch.check(e); err != nil {
				return err
			}
			if n.Kind == yaml.SequenceNode {
				ch.stack = ch.stack[:len(ch.stack)-1]
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if ch.keys {
				if err := ch.compareKeys(n, i); err != nil {
					return err
				}
			}
			ch.stack = append(ch.stack, step{key: n.Content[i]})
			if err := ch.check(n.Content[i+1]); err != nil {
				return err
			}
			ch.stack = ch.stack[:len(ch.stack)-1]
		}
	case yaml.ScalarNode:
		if n.Style&^yaml.TaggedStyle == 0 && (n.Style&yaml.TaggedStyle == 0 || n.ShortTag() == "!!int") && TooBig(n.Value) &&
			(ch.opts.Keep == nil || !ch.opts.Keep(ch.path())) {
			return &Error{Line: n.Line + ch.offset, Msg: TooBigMsg(orRoot(ch.path()), n.Value)}
		}
	}
	return nil
}

// path returns the field path of the node being checked.
func (ch *checker) path() string {
	var p string
	for _, s := range ch.stack {
		if s.key != nil {
			p = Join(p, ch.key(s.key))
		} else {
			p += "[" + strconv.Itoa(s.index) + "]"
		}
	}
	return p
}

// key returns the key of the key node k.
func (ch *checker) key(k *yaml.Node) string {
	if ch.keys {
		return ch.opts.Key(k)
	}
	return k.Value
}

// compareKeys refuses the key at index i of the mapping n when a key before it is
// the same key. Mappings are small: comparing with each is cheaper than a set.
func (ch *checker) compareKeys(n *yaml.Node, i int) error {
	k := n.Content[i]
	s := ch.opts.Key(k)
	for j := 0; j < i; j += 2 {
		first := n.Content[j]
		if ch.opts.Key(first) != s || ch.opts.LastKeyWins && sameValue(first, k) {
			continue
		}
		l1, l2 := first.Line+ch.offset, k.Line+ch.offset
		if first.Value == k.Value && first.Style == k.Style {
			return &Error{Line: l2, Msg: fmt.Sprintf("%s: key %s is written twice, at lines %d and %d", Join(ch.path(), s), quote(k), l1, l2)}
		}
		return &Error{Line: l2, Msg: fmt.Sprintf("%s: keys %s (line %d) and %s (line %d) are the same key %q", orRoot(ch.path()), quote(first), l1, quote(k), l2, s)}
	}
	return nil
}

// TooBigMsg says that field, written text, does not fit an int64.
func TooBigMsg(field, text string) string {
	return fmt.Sprintf("%s: %s does not fit a 64-bit integer (the API server would store another number)", field, text)
}

// sameValue reports whether YAML 1.1 reads the scalars a and b as the same value.
func sameValue(a, b *yaml.Node) bool {
	va, oka := Read11(a)
	vb, okb := Read11(b)
	return oka && okb && reflect.DeepEqual(va, vb)
}

// Join adds the key k to the field path p.
func Join(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}

func orRoot(p string) string {
	if p == "" {
		return "the document"
	}
	return p
}

// quote prints a key as it was written.
func quote(n *yaml.Node) string {
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return strconv.Quote(n.Value)
	case n.Style&yaml.SingleQuotedStyle != 0:
		return "'" + n.Value + "'"
	}
	return n.Value
}

// Identity checks the fields that identify the object root (and each item of a
// List): apiVersion, kind, metadata.name, generateName and namespace written as
// scalars that YAML 1.1 reads as something else than a string, such as `name: y`
// (the boolean true) or `name: 1.10`. Readers disagree on them (go-yaml v3 and
// kyaml read y as a string, kubectl as a boolean), so they are refused with a
// *Error that says how they are read. Lines are counted as in [Check].
func Identity(root *yaml.Node, line int) error {
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	kind := MapValue(root, "kind")
	if kind != nil && strings.HasSuffix(kind.Value, "List") {
		if items := MapValue(root, "items"); items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				if err := Identity(it, line); err != nil {
					return err
				}
			}
			return nil
		}
	}
	meta := MapValue(root, "metadata")
	name := MapValue(meta, "name")
	what, nameText := "", ""
	if kind != nil {
		what = kind.Value
	}
	if name != nil {
		nameText = name.Value
	}
	for _, f := range []struct {
		field, what string
		n           *yaml.Node
	}{
		{"apiVersion", "", MapValue(root, "apiVersion")},
		{"kind", "", kind},
		{"metadata.name", what, name},
		{"metadata.generateName", what, MapValue(meta, "generateName")},
		{"metadata.namespace", strings.TrimSpace(what + " " + nameText), MapValue(meta, "namespace")},
	} {
		if f.n == nil || !mayNotBeString(f.n.Value) {
			continue
		}
		v, ok := Read11(f.n)
		if _, isString := v.(string); !ok || isString || v == nil {
			continue
		}
		msg := NotString(f.field, f.n.Value, v)
		if f.what != "" {
			msg = f.what + ": " + msg
		}
		return &Error{Line: f.n.Line + line - 1, Msg: msg}
	}
	return nil
}

// MapValue returns the value of the last key key of the mapping m (the last wins,
// as in a decoded object), following aliases, or nil.
func MapValue(m *yaml.Node, key string) *yaml.Node {
	for m != nil && m.Kind == yaml.AliasNode {
		m = m.Alias
	}
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var v *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v = m.Content[i+1]
		}
	}
	for v != nil && v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	return v
}

// words11 are the plain scalars YAML 1.1 reads as booleans or null.
var words11 = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "n": true, "N": true, "no": true, "No": true, "NO": true,
	"true": true, "True": true, "TRUE": true, "false": true, "False": true, "FALSE": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
	"null": true, "Null": true, "NULL": true, "~": true,
}

// mayNotBeString reports whether YAML 1.1 may read the plain scalar text as
// something else than a string: a boolean or null word, or a number or timestamp,
// which starts with a digit, a sign or a dot. It spares Read11 the names of
// nearly all objects.
func mayNotBeString(text string) bool {
	if text == "" || words11[text] {
		return true
	}
	c := text[0]
	return c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}
