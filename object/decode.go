package object

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	kjson "sigs.k8s.io/json"

	"github.com/gitopskit/gitopskit/internal/yamlcheck"
)

// Default limits of a [Decoder]. They are far above what real manifests need and far
// below what would exhaust a controller's memory.
const (
	DefaultMaxDocumentBytes = 4 << 20   // one YAML document or JSON value
	DefaultMaxBytes         = 256 << 20 // one stream
	DefaultMaxObjects       = 20000     // objects in one stream, List items included
)

// maxListDepth bounds how deeply Lists of Lists are flattened.
const maxListDepth = 4

// Sentinel errors a [DecodeError] wraps, for callers that branch with errors.Is.
var (
	// ErrLimit means the input exceeded a size or count limit of the Decoder.
	ErrLimit = errors.New("limit exceeded")
	// ErrDuplicate means two documents declared the same object.
	ErrDuplicate = errors.New("duplicate object")
	// ErrInvalid means a document is not a valid Kubernetes object.
	ErrInvalid = errors.New("invalid object")
)

// Origin says where an object was declared. Line is 1-based; 0 means unknown.
type Origin struct {
	File string
	Line int
}

// String prints the origin as "file:line", or "file" when the line is unknown.
func (o Origin) String() string {
	if o.Line == 0 {
		return o.File
	}
	return o.File + ":" + strconv.Itoa(o.Line)
}

// Manifest is an object as it was declared: the object and where it came from.
type Manifest struct {
	Object *unstructured.Unstructured
	Origin Origin
}

// Objects returns the objects of ms, in order.
func Objects(ms []Manifest) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(ms))
	for i, m := range ms {
		out[i] = m.Object
	}
	return out
}

// DecodeError is an error in the input of a [Decoder], with the place it concerns.
type DecodeError struct {
	Origin Origin
	Err    error
}

// Error prints "file:line: message".
func (e *DecodeError) Error() string { return e.Origin.String() + ": " + e.Err.Error() }

// Unwrap returns the cause, which may be [ErrLimit], [ErrDuplicate] or [ErrInvalid].
func (e *DecodeError) Unwrap() error { return e.Err }

// Decoder decodes multi-document YAML and JSON streams into objects. The zero value
// uses the default limits. A Decoder holds no state between calls and is safe for
// concurrent use.
type Decoder struct {
	// MaxDocumentBytes bounds one YAML document or JSON value (default 4 MiB).
	MaxDocumentBytes int
	// MaxBytes bounds the whole stream (default 256 MiB).
	MaxBytes int64
	// MaxObjects bounds the number of objects in the stream (default 20,000).
	MaxObjects int
	// Lenient reads the stream as Helm and kubectl read a program's output, such as
	// a chart's rendered templates, rather than as a file a person wrote: a key
	// written twice keeps its last value; label and annotation values written as
	// numbers or booleans become strings as written ("1.10" stays "1.10") and null
	// ones become ""; and documents that declare nothing (no apiVersion and no kind)
	// are skipped. The default, strict, refuses all three, so that a mistake in a
	// file is reported where it was made.
	Lenient bool
}

// Decode decodes the stream r with the default limits. See [Decoder.Decode].
func Decode(r io.Reader, file string) ([]Manifest, error) {
	return Decoder{}.Decode(r, file)
}

// Decode reads every object of the YAML or JSON stream r, which is named file in
// origins and errors, in order.
//
// YAML documents are separated by "---" lines; JSON is one value or a stream of
// values, detected by the stream starting with '{' or '[' unless file ends in .yaml
// or .yml. Lists (any kind ending in "List" with items) are flattened into their
// items; empty documents and comment-only documents are skipped.
//
// Every object must be a mapping with apiVersion, kind and metadata.name or
// metadata.generateName (an object the server names, such as a hook Job); labels
// and annotations must map strings to strings; apiVersion, kind, name and namespace
// that YAML reads as booleans or numbers (`name: y` is true) are errors saying so.
// What kubectl's readers would silently change is an error naming the field: two
// keys that become the same JSON key (1 and "1", yes and true: one wins at random),
// and integers that do not fit int64 (they become floats, which the API server
// stores as another number; floats written as floats, 0.5 or 1e20, are kept).
// Duplicate keys, in YAML and JSON, YAML alias bombs, two documents declaring the
// same named object, and input over the limits are errors (see [Decoder].Lenient
// for what it accepts). Every error is a *DecodeError naming the file and line; on
// error no objects are returned.
func (d Decoder) Decode(r io.Reader, file string) ([]Manifest, error) {
	d.defaults()
	st := &stream{d: d, file: file, seen: map[ID]Origin{}}
	// A buffer no larger than an input of known length: a chart's output is
	// decoded a document at a time.
	size, known := 64<<10, 0
	if l, ok := r.(interface{ Len() int }); ok {
		known = min(l.Len(), d.MaxDocumentBytes)
		size = min(size, l.Len()+1)
	}
	br := bufio.NewReaderSize(io.LimitReader(r, d.MaxBytes+1), size)
	var err error
	if isJSON(br, file) {
		err = st.decodeJSON(br)
	} else {
		err = st.decodeYAML(br, known)
	}
	if err != nil {
		return nil, err
	}
	return st.out, nil
}

func (d *Decoder) defaults() {
	if d.MaxDocumentBytes <= 0 {
		d.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if d.MaxBytes <= 0 {
		d.MaxBytes = DefaultMaxBytes
	}
	if d.MaxObjects <= 0 {
		d.MaxObjects = DefaultMaxObjects
	}
}

// isJSON sniffs the first significant byte of the stream, unless the name says YAML.
func isJSON(br *bufio.Reader, file string) bool {
	switch strings.ToLower(path.Ext(file)) {
	case ".yaml", ".yml":
		return false
	}
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if err != nil || n > 4096 {
			return false
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF: // white space and a UTF-8 BOM
			continue
		default:
			return c == '{' || c == '['
		}
	}
}

// stream is the state of one Decode call.
type stream struct {
	d     Decoder
	file  string
	out   []Manifest
	seen  map[ID]Origin
	bytes int64
}

func (st *stream) errorf(line int, sentinel error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if sentinel != nil {
		err = fmt.Errorf("%w: %w", sentinel, err)
	}
	return &DecodeError{Origin: Origin{File: st.file, Line: line}, Err: err}
}

// decodeYAML splits the stream into documents at "---" and "..." lines, keeping the
// line each document starts on, and decodes each. size is the stream's length
// when it is known (up to MaxDocumentBytes), else 0.
func (st *stream) decodeYAML(br *bufio.Reader, size int) error {
	var (
		doc       bytes.Buffer
		line      = 0 // lines read so far
		docStart  = 1 // line of the first line in doc
		firstText = 0 // line of the first line in doc that is not blank or a comment
	)
	doc.Grow(size)
	flush := func() error {
		err := st.yamlDocument(doc.Bytes(), docStart, firstText)
		doc.Reset()
		docStart, firstText = line+1, 0
		return err
	}
	for {
		chunk, err := readLine(br, st.d.MaxDocumentBytes-doc.Len())
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, bufio.ErrBufferFull) {
				return st.errorf(docStart, ErrLimit, "document larger than %d bytes", st.d.MaxDocumentBytes)
			}
			return st.errorf(line+1, nil, "read: %w", err)
		}
		if len(chunk) > 0 {
			line++
			if st.bytes += int64(len(chunk)); st.bytes > st.d.MaxBytes {
				return st.errorf(line, ErrLimit, "stream larger than %d bytes", st.d.MaxBytes)
			}
			if line == 1 {
				chunk = bytes.TrimPrefix(chunk, []byte("\xEF\xBB\xBF"))
			}
			switch {
			case isMarker(chunk, "---"), isMarker(chunk, "..."):
				if ferr := flush(); ferr != nil {
					return ferr
				}
				// "--- {a: b}" puts content on the marker line itself.
				if rest := bytes.TrimSpace(chunk[3:]); len(rest) > 0 && rest[0] != '#' && isMarker(chunk, "---") {
					doc.Write(rest)
					doc.WriteByte('\n')
					docStart, firstText = line, line
				}
			default:
				if firstText == 0 {
					if t := bytes.TrimSpace(chunk); len(t) > 0 && t[0] != '#' {
						firstText = line
					}
				}
				doc.Write(chunk)
			}
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
	}
}

// readLine reads one line, newline included, failing with bufio.ErrBufferFull when
// it is longer than max. A line that fits br's buffer is returned in it, valid
// until the next read.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, bufio.ErrBufferFull
		}
		if line == nil && !errors.Is(err, bufio.ErrBufferFull) {
			return chunk, err
		}
		line = append(line, chunk...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// isMarker reports whether line is the document marker m ("---" or "...") followed by
// nothing, white space or content.
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	return len(line) == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' || line[3] == '\n'
}

// yamlLine finds the line number goyaml reports inside a document.
var yamlLine = regexp.MustCompile(`line (\d+): `)

func (st *stream) yamlDocument(doc []byte, start, firstText int) error {
	if firstText == 0 {
		return nil // blank or comments only
	}
	if m, ok := fastYAML(doc); ok {
		return st.object(m, firstText, nil, doc)
	}
	js, err := st.yamlToJSON(doc, start)
	if err != nil {
		var ce *yamlcheck.Error
		if errors.As(err, &ce) {
			return st.errorf(ce.Line, ErrInvalid, "%s", ce.Msg)
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := firstText
		if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
			n, _ := strconv.Atoi(msg[m[2]:m[3]])
			line = start + n - 1
			msg = msg[:m[0]] + msg[m[1]:]
		}
		msg = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:")), "yaml: ")
		return st.errorf(line, ErrInvalid, "invalid YAML: %s", msg)
	}
	return st.value(js, firstText, doc)
}

// decodeJSON decodes a stream of JSON values.
func (st *stream) decodeJSON(br *bufio.Reader) error {
	data, err := io.ReadAll(br)
	if err != nil {
		return st.errorf(0, nil, "read: %w", err)
	}
	if int64(len(data)) > st.d.MaxBytes {
		return st.errorf(0, ErrLimit, "stream larger than %d bytes", st.d.MaxBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := int(dec.InputOffset())
		start += len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n"))
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				line = 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
			}
			return st.errorf(line, ErrInvalid, "invalid JSON: %v", err)
		}
		if len(raw) > st.d.MaxDocumentBytes {
			return st.errorf(line, ErrLimit, "document larger than %d bytes", st.d.MaxDocumentBytes)
		}
		if err := st.jsonValue(raw, line); err != nil {
			return err
		}
	}
}

// jsonValue decodes the JSON document raw, which starts at line, refusing what
// the API server would silently change: a key written twice (it keeps the last;
// Lenient does too) and integers beyond int64 (it stores another number).
func (st *stream) jsonValue(raw []byte, line int) error {
	var v any
	strict, err := kjson.UnmarshalStrict(raw, &v, kjson.DisallowDuplicateFields)
	if err != nil {
		return st.errorf(line, ErrInvalid, "%v", err)
	}
	if st.d.Lenient {
		strict = nil // the last of a key written twice wins, as in YAML
	}
	if len(strict) > 0 || hasHugeNumber(v) {
		if ce := checkJSON(raw, line, !st.d.Lenient); ce != nil {
			return st.errorf(ce.Line, ErrInvalid, "%s", ce.Msg)
		}
		if len(strict) > 0 {
			return st.errorf(line, ErrInvalid, "%v", strict[0])
		}
	}
	if v == nil {
		return nil
	}
	return st.object(v, line, nil, nil)
}

// value decodes one JSON document converted from the YAML document yamlDoc,
// flattening Lists.
func (st *stream) value(js []byte, line int, yamlDoc []byte) error {
	var v any
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return st.errorf(line, ErrInvalid, "%v", err)
	}
	if v == nil {
		return nil
	}
	return st.object(v, line, nil, yamlDoc)
}

// object adds the object v, or the items of the List v. items is the path of v
// in the document's Lists, by item index.
func (st *stream) object(v any, line int, items []int, yamlDoc []byte) error {
	m, ok := v.(map[string]any)
	if !ok {
		return st.errorf(line, ErrInvalid, "document is %s, not an object", describe(v))
	}
	u := &unstructured.Unstructured{Object: m}
	if list, isList := m["items"]; isList && strings.HasSuffix(u.GetKind(), "List") {
		list, ok := list.([]any)
		if !ok && list != nil {
			return st.errorf(line, ErrInvalid, "%s: items is %s, not a list", u.GetKind(), describe(list))
		}
		if len(items) >= maxListDepth {
			return st.errorf(line, ErrLimit, "Lists nested deeper than %d", maxListDepth)
		}
		for i, item := range list {
			if err := st.object(item, line, append(items, i), yamlDoc); err != nil {
				return err
			}
		}
		return nil
	}
	if st.d.Lenient {
		if m["apiVersion"] == nil && m["kind"] == nil {
			return nil // declares nothing, as kubectl and Helm see it
		}
		stringifyMetadata(m, yamlDoc, items)
	}
	if err := validate(m, sourceText(yamlDoc, items)); err != nil {
		return st.errorf(line, ErrInvalid, "%w", err)
	}
	if len(st.out) >= st.d.MaxObjects {
		return st.errorf(line, ErrLimit, "more than %d objects", st.d.MaxObjects)
	}
	id := IDOf(u)
	origin := Origin{File: st.file, Line: line}
	if id.Name != "" { // objects with only a generateName are each a new one
		if first, dup := st.seen[id]; dup {
			return st.errorf(line, ErrDuplicate, "%s, first declared at %s", id.KubectlString(), first)
		}
		st.seen[id] = origin
	}
	st.out = append(st.out, Manifest{Object: u, Origin: origin})
	return nil
}

// validate checks what every Kubernetes object needs, with messages that name the
// field, so that typed accessors of unstructured never silently see zero values.
// text returns the source text of a scalar field, when known.
func validate(m map[string]any, text func(path ...string) string) error {
	apiVersion, err := identityString(m, text, "", "apiVersion")
	if err != nil {
		return err
	}
	if apiVersion == "" {
		return fmt.Errorf("object has no apiVersion")
	}
	if _, err := schema.ParseGroupVersion(apiVersion); err != nil {
		return fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	kind, err := identityString(m, text, "", "kind")
	if err != nil {
		return err
	}
	if kind == "" {
		return fmt.Errorf("object of apiVersion %s has no kind", apiVersion)
	}
	meta, ok := m["metadata"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s has no metadata", kind)
	}
	name, err := identityString(meta, text, kind, "metadata", "name")
	if err != nil {
		return err
	}
	generateName, err := identityString(meta, text, kind, "metadata", "generateName")
	if err != nil {
		return err
	}
	if name == "" && generateName == "" {
		return fmt.Errorf("%s has no metadata.name or metadata.generateName", kind)
	}
	if name == "" {
		name = generateName + "*"
	}
	if _, err := identityString(meta, text, kind+" "+name, "metadata", "namespace"); err != nil {
		return err
	}
	for _, field := range []string{"labels", "annotations"} {
		raw, present := meta[field]
		if !present || raw == nil {
			continue
		}
		kv, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("%s %s: metadata.%s is %s, not a map", kind, name, field, describe(raw))
		}
		for k, v := range kv {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("%s %s: metadata.%s.%s is %s, not a string (quote it)", kind, name, field, k, describe(v))
			}
		}
	}
	return nil
}

// identityString returns the string field at path (whose last element is a key of
// m), or "" when it is absent or null, and an error naming the object (what) and
// saying what was read instead when it is something else.
func identityString(m map[string]any, text func(path ...string) string, what string, path ...string) (string, error) {
	v := m[path[len(path)-1]]
	if v == nil {
		return "", nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	field := strings.Join(path, ".")
	var msg string
	switch v.(type) {
	case bool, int64, float64:
		t := fmt.Sprint(v)
		if text != nil {
			if s := text(path...); s != "" {
				t = s
			}
		}
		msg = yamlcheck.NotString(field, t, v)
	default:
		msg = fmt.Sprintf("%s is %s, not a string", field, describe(v))
	}
	if what != "" {
		msg = strings.TrimSpace(what) + ": " + msg
	}
	return "", errors.New(msg)
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
