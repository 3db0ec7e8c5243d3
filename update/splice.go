package update

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// target is a field to set: a scalar to replace, a key to insert into a block
// mapping (insert), or a key and scalar to remove (remove).
type target struct {
	node   *yaml.Node
	key    *yaml.Node // the removed value's key
	policy string
	value  string
	flow   bool // inside a flow collection, where ",[]{}" end a plain scalar
	insert string
	remove bool
}

// patch replaces data[start:end] with text.
type patch struct {
	start, end int
	text       string
	edit       Edit
}

// text is a file's bytes with its line starts, to turn the parser's line and
// column (in characters) into byte offsets.
type text struct {
	data  []byte
	lines []int
}

func newText(data []byte) *text {
	s := &text{data: data, lines: []int{0}}
	for i, b := range data {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

func (s *text) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) || col < 1 {
		return 0, fmt.Errorf("%d: position out of range", line)
	}
	off := s.lines[line-1]
	for range col - 1 {
		if off >= len(s.data) || s.data[off] == '\n' {
			return 0, fmt.Errorf("%d: position out of range", line)
		}
		_, n := utf8.DecodeRune(s.data[off:])
		off += n
	}
	return off, nil
}

// lineEnd returns the offset of the newline ending the line holding off (or the
// end of data) and the line break's text.
func (s *text) lineEnd(off int) (int, string) {
	i := bytes.IndexByte(s.data[off:], '\n')
	if i < 0 {
		return len(s.data), ""
	}
	end := off + i
	if end > 0 && s.data[end-1] == '\r' {
		return end - 1, "\r\n"
	}
	return end, "\n"
}

// span returns the byte range of the single-line scalar n, checked by parsing it
// back: a scalar the setter cannot bound exactly is an error, never a guess.
func (s *text) span(n *yaml.Node, flow bool) (int, int, error) {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return 0, 0, fmt.Errorf("%d: a block scalar cannot be set in place", n.Line)
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return 0, 0, fmt.Errorf("%d: a tagged scalar cannot be set in place", n.Line)
	}
	start, err := s.offset(n.Line, n.Column)
	if err != nil {
		return 0, 0, err
	}
	lineEnd, _ := s.lineEnd(start)
	rest := s.data[start:lineEnd]
	var end int
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		end = quotedEnd(rest, '"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		end = quotedEnd(rest, '\'')
	default:
		end = plainEnd(rest, flow)
	}
	if end <= 0 || !parsesTo(rest[:end], n.Value) {
		return 0, 0, fmt.Errorf("%d: the value %q is not on one line or not where the parser put it", n.Line, n.Value)
	}
	return start, start + end, nil
}

// quotedEnd returns the length of the quoted scalar text starts with, 0 if it does
// not close on this line.
func quotedEnd(text []byte, q byte) int {
	for i := 1; i < len(text); i++ {
		switch {
		case q == '"' && text[i] == '\\':
			i++
		case text[i] == q && q == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i++
		case text[i] == q:
			return i + 1
		}
	}
	return 0
}

// plainEnd returns the length of the plain scalar text starts with: up to a
// comment, or a flow indicator inside a flow collection, without trailing blanks.
func plainEnd(text []byte, flow bool) int {
	end := len(text)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '#' && i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
			end = i
			break
		}
		if flow && (c == ',' || c == ']' || c == '}') {
			end = i
			break
		}
	}
	return len(bytes.TrimRight(text[:end], " \t\r"))
}

// parsesTo reports whether text alone is a YAML string scalar equal to value.
func parsesTo(text []byte, value string) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return false
	}
	return len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Value == value
}

// render writes value in style, falling back to double quotes when a plain or
// single-quoted scalar would not read back as the same string.
func render(value string, style yaml.Style, flow bool) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0 && !strings.ContainsAny(value, "\n\r"):
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle == 0 && plainSafe(value, flow):
		return value
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(value) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

func plainSafe(v string, flow bool) bool {
	if v == "" || strings.ContainsAny(v, "\n\r\t#") || strings.Contains(v, ": ") || flow && strings.ContainsAny(v, ",[]{}") {
		return false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
		return false
	}
	n := doc.Content
	return len(n) == 1 && n[0].Kind == yaml.ScalarNode && n[0].Tag == "!!str" && n[0].Style == 0 && n[0].Value == v
}

// patch turns t into a byte patch; ok is false when the field already holds the
// value.
func (s *text) patch(t target) (patch, bool, error) {
	switch {
	case t.insert != "":
		return s.insertPatch(t)
	case t.remove:
		return s.removePatch(t)
	}
	if t.node.Value == t.value {
		return patch{}, false, nil
	}
	start, end, err := s.span(t.node, t.flow)
	if err != nil {
		return patch{}, false, err
	}
	edit := Edit{Line: t.node.Line, Policy: t.policy, Old: t.node.Value, New: t.value}
	return patch{start, end, render(t.value, t.node.Style, t.flow), edit}, true, nil
}

// insertPatch adds "key: value" to a block mapping, on a new line after its first
// entry, aligned with its first key.
func (s *text) insertPatch(t target) (patch, bool, error) {
	m := t.node
	if t.flow || len(m.Content) < 2 || m.Content[1].Kind != yaml.ScalarNode {
		return patch{}, false, fmt.Errorf("%d: cannot add %s here (a flow mapping, or a first value that is not a scalar)", m.Line, t.insert)
	}
	k, v := m.Content[0], m.Content[1]
	if v.Line != k.Line {
		return patch{}, false, fmt.Errorf("%d: cannot add %s after a value on its own line", m.Line, t.insert)
	}
	_, end, err := s.span(v, false)
	if err != nil {
		return patch{}, false, err
	}
	lineEnd, nl := s.lineEnd(end)
	line := strings.Repeat(" ", k.Column-1) + t.insert + ": " + render(t.value, 0, false)
	at := lineEnd + len(nl)
	if nl == "" {
		line = "\n" + line
	} else {
		line += nl
	}
	edit := Edit{Line: v.Line + 1, Policy: t.policy, New: t.value}
	return patch{at, at, line, edit}, true, nil
}

// removePatch deletes the line of a key and its scalar value, which must be alone
// on that line.
func (s *text) removePatch(t target) (patch, bool, error) {
	k, v := t.key, t.node
	fail := func() (patch, bool, error) {
		return patch{}, false, fmt.Errorf("%d: cannot remove %s: it does not stand on a line of its own", k.Line, k.Value)
	}
	if t.flow || v.Line != k.Line || k.Style != 0 {
		return fail()
	}
	kStart, err := s.offset(k.Line, k.Column)
	if err != nil {
		return patch{}, false, err
	}
	lineStart := s.lines[k.Line-1]
	if len(bytes.TrimLeft(s.data[lineStart:kStart], " ")) != 0 {
		return fail()
	}
	_, end, err := s.span(v, false)
	if err != nil {
		return patch{}, false, err
	}
	lineEnd, nl := s.lineEnd(end)
	if rest := bytes.TrimSpace(s.data[end:lineEnd]); len(rest) != 0 && rest[0] != '#' {
		return fail()
	}
	edit := Edit{Line: k.Line, Policy: t.policy, Old: v.Value}
	return patch{lineStart, lineEnd + len(nl), "", edit}, true, nil
}

// splice applies the targets to data and returns the result with the edits in
// file order.
func splice(data []byte, targets []target) ([]byte, []Edit, error) {
	src := newText(data)
	var patches []patch
	for _, t := range targets {
		p, ok, err := src.patch(t)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			patches = append(patches, p)
		}
	}
	sort.SliceStable(patches, func(i, j int) bool { return patches[i].start < patches[j].start })
	var out bytes.Buffer
	out.Grow(len(data) + 64*len(patches))
	edits := make([]Edit, 0, len(patches))
	last := 0
	for _, p := range patches {
		if p.start < last {
			return nil, nil, fmt.Errorf("%d: overlapping edits", p.edit.Line)
		}
		out.Write(data[last:p.start])
		out.WriteString(p.text)
		last = p.end
		edits = append(edits, p.edit)
	}
	out.Write(data[last:])
	return out.Bytes(), edits, nil
}
