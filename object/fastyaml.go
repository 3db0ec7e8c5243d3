package object

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
)

// maxFastDepth bounds how deeply the fast path nests; deeper documents take the
// full path (go-yaml refuses them past 10,000).
const maxFastDepth = 100

// fastYAML decodes the YAML document doc straight into the object that
// yamlToJSON and a JSON decode give, without a YAML parser or a trip through
// JSON, for the documents that people and templates usually write: ASCII block
// mappings and sequences of plain and one-line quoted scalars, one-line flow
// collections and literal block scalars, whose keys are all strings and unique
// and whose numbers fit 64 bits. For anything else (a key written twice, an
// anchor, a tag, a folded or multi-line scalar, a tab, a syntax error, ...) it
// returns false and the caller takes the full path, which decides what the
// document means and reports its errors: the fast path never returns an error
// of its own. Scalars are read as go-yaml v2 (YAML 1.1) reads them, and numbers
// are what a JSON decode gives (integers int64, other numbers float64).
// FuzzFastYAML checks it against the full path.
func fastYAML(doc []byte) (map[string]any, bool) {
	if len(doc) == 0 || doc[len(doc)-1] != '\n' {
		return nil, false
	}
	for _, c := range doc {
		if (c < ' ' || c > '~') && c != '\n' {
			return nil, false
		}
	}
	p := fastParser{src: doc, str: string(doc), inline: -1}
	ind, start, ok := p.peek()
	if !ok || isSeqEntry(doc, start) {
		return nil, false
	}
	m, ok := p.mapping(ind, 0)
	if !ok {
		return nil, false
	}
	if _, _, more := p.peek(); more {
		return nil, false
	}
	return m, true
}

// fastParser reads a document line by line; src ends with a newline.
type fastParser struct {
	src []byte
	str string // src, of which the scalars are substrings
	off int    // start of the next line, or of the compact mapping after "- " when inline >= 0
	// inline is the column of src[off] when the next entry starts on the line
	// of its "- " (a compact mapping), else -1.
	inline int
}

// peek skips blank and comment lines and returns the indentation and the offset
// of the first character of the next line with content.
func (p *fastParser) peek() (indent, start int, ok bool) {
	if p.inline >= 0 {
		return p.inline, p.off, true
	}
	for p.off < len(p.src) {
		i := skipSpaces(p.src, p.off)
		switch p.src[i] {
		case '\n':
			p.off = i + 1
			continue
		case '#':
			p.off = endOfLine(p.src, i) + 1
			continue
		}
		return i - p.off, i, true
	}
	return 0, 0, false
}

// node reads the block node whose first line is the next one.
func (p *fastParser) node(depth int) (any, bool) {
	ind, start, _ := p.peek()
	if isSeqEntry(p.src, start) {
		return p.seq(ind, depth)
	}
	return p.mapping(ind, depth)
}

// mapping reads a block mapping at column ind.
func (p *fastParser) mapping(ind, depth int) (map[string]any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	m := map[string]any{}
	for {
		i, start, ok := p.peek()
		if !ok || i < ind {
			return m, true
		}
		if i > ind || isSeqEntry(p.src, start) {
			return nil, false
		}
		key, next, found, ok := p.key(start)
		if !found || !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		v, ok := p.value(next, ind, true, depth)
		if !ok {
			return nil, false
		}
		m[key] = v
	}
}

// seq reads a block sequence whose entries ("- ") are at column ind.
func (p *fastParser) seq(ind, depth int) ([]any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	var l []any
	for {
		i, start, ok := p.peek()
		if !ok || i < ind || i == ind && !isSeqEntry(p.src, start) {
			return l, true // the end, or the next key of a mapping at the same column
		}
		if i > ind {
			return nil, false
		}
		j := skipSpaces(p.src, start+1)
		var v any
		if c := p.src[j]; c != '\n' && c != '#' && c != '-' {
			_, _, found, ok := p.key(j)
			if !ok {
				return nil, false
			}
			if found { // "- key: value": a mapping at the column of key
				p.off, p.inline = j, i+j-start
				if v, ok = p.mapping(p.inline, depth+1); !ok {
					return nil, false
				}
				l = append(l, v)
				continue
			}
		}
		if v, ok = p.value(start+1, ind, false, depth); !ok {
			return nil, false
		}
		l = append(l, v)
	}
}

// key reads the mapping key at s and the ':' after it, returning the offset
// after the ':'. found is false when the line holds no key: no ':' followed by a
// space or the line's end, before a comment. ok is false when the key is not one
// the fast path reads.
func (p *fastParser) key(s int) (key string, next int, found, ok bool) {
	src := p.src
	switch src[s] {
	case '"', '\'':
		k, e, ok := p.quoted(s)
		if !ok || e-s > 1000 { // go-yaml looks for a key's ':' within 1,024 characters
			return "", 0, false, false
		}
		if src[e] == ':' && (src[e+1] == ' ' || src[e+1] == '\n') {
			return k, e + 1, true, true
		}
		return "", 0, false, true
	case '[', '{':
		return "", 0, false, true
	}
	for e := s; ; e++ {
		switch src[e] {
		case '\n':
			return "", 0, false, true
		case '#':
			if src[e-1] == ' ' {
				return "", 0, false, true
			}
		case ':':
			if src[e+1] != ' ' && src[e+1] != '\n' {
				continue
			}
			text := p.str[s:e]
			if len(text) > 1000 || !plainStart(text) || strings.HasSuffix(text, " ") {
				return "", 0, true, false
			}
			v, ok := plain11(text)
			k, isString := v.(string)
			return k, e + 1, true, ok && isString && k != "<<"
		}
	}
}

// value reads the value that starts after s (after a key's ':' or an entry's
// '-'), in the collection at column parent: on the same line, or on the next
// lines when it is empty.
func (p *fastParser) value(s, parent int, inMapping bool, depth int) (any, bool) {
	src := p.src
	j := skipSpaces(src, s)
	e := endOfLine(src, j)
	var (
		v  any
		ok bool
		k  int // after the value on its line
	)
	switch c := src[j]; c {
	case '\n', '#':
		p.off, p.inline = e+1, -1
		i, start, more := p.peek()
		switch {
		case more && i > parent:
			return p.node(depth + 1)
		case more && inMapping && i == parent && isSeqEntry(src, start):
			return p.seq(i, depth+1)
		}
		return nil, true
	case '|':
		return p.literal(j, e, parent)
	case '[', '{':
		v, k, ok = p.flow(j, depth)
	case '"', '\'':
		v, k, ok = p.quoted(j)
	default:
		k = j
		for k < e && !(src[k] == '#' && src[k-1] == ' ') {
			k++
		}
		text := strings.TrimRight(p.str[j:k], " ")
		if !plainStart(text) || strings.Contains(text, ": ") || strings.HasSuffix(text, ":") {
			return nil, false
		}
		v, ok = plain11(text)
		k = j + len(text)
	}
	if !ok || !restOfLine(src, k) {
		return nil, false
	}
	p.off, p.inline = e+1, -1
	// A line indented more would continue the scalar, or be an error.
	if i, _, more := p.peek(); more && i > parent {
		return nil, false
	}
	return v, true
}

// literal reads the literal block scalar ("|" or "|-") at j, whose line ends at
// e, in the collection at column parent.
func (p *fastParser) literal(j, e, parent int) (any, bool) {
	src := p.src
	k := j + 1
	strip := src[k] == '-'
	if strip {
		k++
	}
	if src[k] != ' ' && src[k] != '\n' || !restOfLine(src, k) {
		return nil, false
	}
	pos := e + 1
	if pos >= len(src) {
		return nil, false
	}
	indent := skipSpaces(src, pos) - pos
	if src[pos+indent] == '\n' || indent <= parent {
		return nil, false // leading blank lines or an empty scalar
	}
	var b strings.Builder
	content := 0 // length of b up to the end of the last line with content
	for pos < len(src) {
		n := skipSpaces(src, pos) - pos
		eol := endOfLine(src, pos+n)
		if src[pos+n] == '\n' && n <= indent {
			b.WriteByte('\n')
			pos = eol + 1
			continue
		}
		if n < indent {
			break
		}
		b.Write(src[pos+indent : eol+1])
		content = b.Len()
		pos = eol + 1
	}
	text := b.String()[:content]
	if strip {
		text = text[:len(text)-1]
	}
	p.off, p.inline = pos, -1
	return text, true
}

// flow reads the one-line flow collection at j and returns the offset after it.
func (p *fastParser) flow(j, depth int) (any, int, bool) {
	src := p.src
	if depth > maxFastDepth {
		return nil, 0, false
	}
	closing := byte(']')
	var (
		l []any
		m map[string]any
	)
	if src[j] == '[' {
		l = []any{}
	} else {
		closing, m = '}', map[string]any{}
	}
	k := skipSpaces(src, j+1)
	if src[k] == closing {
		if m != nil {
			return m, k + 1, true
		}
		return l, k + 1, true
	}
	for {
		var (
			key string
			ok  bool
		)
		if m != nil {
			var v any
			start := k
			if v, k, ok = p.flowScalar(k); !ok {
				return nil, 0, false
			}
			key, ok = v.(string)
			if !ok || key == "<<" || k-start > 1000 || src[k] != ':' || src[k+1] != ' ' {
				return nil, 0, false
			}
			if _, dup := m[key]; dup {
				return nil, 0, false
			}
			k = skipSpaces(src, k+1)
		}
		var v any
		if c := src[k]; c == '[' || c == '{' {
			v, k, ok = p.flow(k, depth+1)
		} else {
			v, k, ok = p.flowScalar(k)
		}
		if !ok {
			return nil, 0, false
		}
		if m != nil {
			m[key] = v
		} else {
			l = append(l, v)
		}
		k = skipSpaces(src, k)
		switch src[k] {
		case ',':
			k = skipSpaces(src, k+1)
			if src[k] == closing {
				return nil, 0, false
			}
		case closing:
			if m != nil {
				return m, k + 1, true
			}
			return l, k + 1, true
		default:
			return nil, 0, false
		}
	}
}

// flowScalar reads a quoted or plain scalar inside a flow collection.
func (p *fastParser) flowScalar(k int) (any, int, bool) {
	src := p.src
	if c := src[k]; c == '"' || c == '\'' {
		return p.quoted(k)
	}
	e := k
	for ; ; e++ {
		c := src[e]
		if c == ',' || c == ']' || c == '}' || c == '\n' || c == ':' && src[e+1] == ' ' {
			break
		}
		if strings.IndexByte("[{:#?\"'", c) >= 0 {
			return nil, 0, false
		}
	}
	text := strings.TrimRight(p.str[k:e], " ")
	if !plainStart(text) {
		return nil, 0, false
	}
	v, ok := plain11(text)
	return v, k + len(text), ok
}

// quoted reads the one-line quoted scalar at j and returns the offset after
// its closing quote.
func (p *fastParser) quoted(j int) (string, int, bool) {
	src := p.src
	q := src[j]
	start := j + 1
	var b []byte // made at the first escape
	for k := start; ; k++ {
		c := src[k]
		switch {
		case c == '\n':
			return "", 0, false
		case c == q && q == '\'' && src[k+1] == '\'':
			b = append(append(b, src[start:k]...), '\'')
			k++
			start = k + 1
		case c == q:
			if b == nil {
				return p.str[start:k], k + 1, true
			}
			return string(append(b, src[start:k]...)), k + 1, true
		case c == '\\' && q == '"':
			b = append(b, src[start:k]...)
			var n int
			var ok bool
			if b, n, ok = unescape(b, src[k+1:]); !ok {
				return "", 0, false
			}
			k += n
			start = k + 1
		}
	}
}

// unescape appends what the escape sequence at the start of s (after the
// backslash) means in a double-quoted scalar, and returns how many bytes of s
// it took.
func unescape(b, s []byte) ([]byte, int, bool) {
	// The one-character escapes go-yaml v2 knows, each followed by its meaning.
	const escapes = "0\x00a\ab\bt\tn\nv\vf\fr\re\x1b  \"\"''\\\\"
	for i := 0; i < len(escapes); i += 2 {
		if escapes[i] == s[0] {
			return append(b, escapes[i+1]), 1, true
		}
	}
	width := 0
	switch s[0] {
	case 'x':
		width = 2
	case 'u':
		width = 4
	case 'U':
		width = 8
	default:
		return nil, 0, false
	}
	if len(s) <= width {
		return nil, 0, false
	}
	r, err := strconv.ParseUint(string(s[1:1+width]), 16, 32)
	if err != nil || r >= 0xD800 && r <= 0xDFFF || r > utf8.MaxRune {
		return nil, 0, false
	}
	return utf8.AppendRune(b, rune(r)), 1 + width, true
}

// plain11 returns the value go-yaml v2 reads from the plain scalar text, as a
// JSON decode of what sigs.k8s.io/yaml makes of it gives it, and false for
// values the full path must see: integers beyond int64 and NaN or infinite
// floats (which it refuses), the merge key, anything else than a string,
// boolean, null or number.
func plain11(text string) (any, bool) {
	switch text {
	case "", "~", "null", "Null", "NULL":
		return nil, true
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	case "<<", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return nil, false // the merge key; floats that JSON cannot hold
	}
	c := text[0]
	if !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
		return text, true
	}
	if i, ok := decimalInt(text); ok {
		return i, true
	}
	if !mayBeNumber(text) {
		return text, true
	}
	var v any
	if strings.HasPrefix(text, "---") || strings.HasPrefix(text, "...") || yamlv2.Unmarshal([]byte(text), &v) != nil {
		return nil, false
	}
	switch v := v.(type) {
	case string, bool, nil:
		return v, true
	case int:
		return int64(v), true
	case float64:
		if math.IsNaN(v) || math.Abs(v) >= 1<<63 { // Inf included
			return nil, false
		}
		// JSON writes the shortest decimal that reads back as v, and a JSON
		// decode makes an integer of it when it has no fraction.
		if i, err := strconv.ParseInt(strconv.FormatFloat(v, 'f', -1, 64), 10, 64); err == nil {
			return i, true
		}
		return v, true
	}
	return nil, false
}

// decimalInt parses the plain decimal integers that go-yaml and JSON read alike:
// no sign but '-', no leading zero, at most 18 digits.
func decimalInt(text string) (int64, bool) {
	digits := strings.TrimPrefix(text, "-")
	if len(digits) == 0 || len(digits) > 18 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(text, 10, 64)
	return i, err == nil
}

// mayBeNumber reports whether go-yaml v2 may read text, which starts with a
// digit, a sign or a dot, as a number: only if every character is one that its
// integer (base prefixes and hexadecimal digits, '_') or float syntax uses.
// Others are strings, or timestamps, which it gives as strings too.
func mayBeNumber(text string) bool {
	for i := 0; i < len(text); i++ {
		if strings.IndexByte("0123456789abcdefABCDEFxXoO_+-.", text[i]) < 0 {
			return false
		}
	}
	return true
}

// plainStart reports whether a plain scalar may start as text does: not empty,
// not with an indicator other than '-' before a character that is not a space.
func plainStart(text string) bool {
	if text == "" {
		return false
	}
	if text[0] == '-' {
		return len(text) > 1 && text[1] != ' '
	}
	return strings.IndexByte("?:,[]{}#&*!|>'\"%@`", text[0]) < 0
}

// restOfLine reports whether what follows k on its line is blank or a comment.
func restOfLine(src []byte, k int) bool {
	e := skipSpaces(src, k)
	return src[e] == '\n' || src[e] == '#' && e > k
}

// isSeqEntry reports whether the content at s is a block sequence entry.
func isSeqEntry(src []byte, s int) bool {
	return src[s] == '-' && (src[s+1] == ' ' || src[s+1] == '\n')
}

func skipSpaces(src []byte, i int) int {
	for src[i] == ' ' {
		i++
	}
	return i
}

func endOfLine(src []byte, i int) int {
	for src[i] != '\n' {
		i++
	}
	return i
}
