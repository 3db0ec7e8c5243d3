package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// format is a file format SOPS stores encrypted files in.
type format int

const (
	formatNone   format = iota // not a SOPS file
	formatYAML                 // YAML, one or more documents
	formatJSON                 // JSON
	formatDotenv               // KEY=value lines
	formatBinary               // any other file: JSON holding "data" and "sops"
)

func (f format) String() string {
	return [...]string{"none", "YAML", "JSON", "dotenv", "binary"}[f]
}

// formatOf returns the format of the SOPS file data named name, or formatNone
// when data holds no SOPS metadata. As SOPS does, the extension decides
// (.yaml and .yml, .json, .env); a file with another extension is sniffed, so
// that a file encrypted with --input-type is read as it was written.
func formatOf(name string, data []byte) (format, error) {
	if !bytes.Contains(data, []byte("sops")) {
		return formatNone, nil
	}
	switch path.Ext(name) {
	case ".yaml", ".yml":
		return formatYAML, nil
	case ".json":
		return formatJSON, nil
	case ".env":
		return formatDotenv, nil
	case ".ini":
		if bytes.Contains(data, []byte("[sops]")) {
			return formatNone, fmt.Errorf("%w: the INI format", ErrUnsupported)
		}
		return formatNone, nil
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return formatBinary, nil // JSON unless it holds only data and sops (see parse)
	case bytes.HasPrefix(trimmed, []byte("sops_")) || bytes.Contains(data, []byte("\nsops_")):
		return formatDotenv, nil
	}
	return formatYAML, nil
}

// document is one document of a file: a mapping, and the value of its "sops"
// entry (nil when it has none).
type document struct {
	root *yaml.Node
	meta map[string]any
	line int
	// comments are the comment lines of a dotenv file, by the index of the
	// entry they precede (len for those after the last).
	comments map[int][]string
}

// parse reads data in format f into documents. A file in formatBinary that is
// not the JSON envelope of a binary file is returned as formatJSON.
func parse(f format, data []byte) ([]document, format, error) {
	switch f {
	case formatDotenv:
		doc, err := parseDotenv(data)
		return []document{doc}, f, err
	case formatJSON, formatBinary:
		root, err := parseJSON(data)
		if err != nil {
			return nil, f, err
		}
		if f == formatBinary && (len(root.Content) != 4 || root.Content[0].Value != "data" || root.Content[2].Value != "sops") {
			f = formatJSON
		}
		doc, err := newDocument(root)
		return []document{doc}, f, err
	}
	var docs []document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, f, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
			docs = append(docs, document{root: &n, line: n.Line})
			continue
		}
		doc, err := newDocument(n.Content[0])
		if err != nil {
			return nil, f, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		docs = append(docs, doc)
	}
	return docs, f, nil
}

// newDocument returns the document of a mapping, with its sops entry removed.
func newDocument(root *yaml.Node) (document, error) {
	doc := document{root: root, line: root.Line}
	if root.Kind != yaml.MappingNode {
		return doc, nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "sops" {
			continue
		}
		v := root.Content[i+1]
		if v.Kind != yaml.MappingNode {
			return doc, nil // not SOPS metadata: a field of the document's own
		}
		var meta map[string]any
		if err := v.Decode(&meta); err != nil {
			return doc, fmt.Errorf("%w: sops: %w", ErrInvalid, err)
		}
		if !isMetadata(meta) {
			return doc, nil
		}
		doc.meta = meta
		root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
		return doc, nil
	}
	return doc, nil
}

// isMetadata tells SOPS metadata from a field a document names "sops" for
// its own reasons (a chart's values): SOPS always writes mac and lastmodified,
// so metadata holds at least one of them, and a file missing the other is a
// SOPS file with its metadata broken.
func isMetadata(m map[string]any) bool {
	_, mac := m["mac"]
	_, lm := m["lastmodified"]
	return mac || lm
}

// parseJSON reads a JSON object into a YAML mapping node, in the order of its
// keys, numbers typed as SOPS types them: integers that fit in 64 bits are
// ints, other numbers floats.
func parseJSON(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := jsonValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalid)
	}
	return n, nil
}

// maxDepth bounds the nesting of a JSON file.
const maxDepth = 1000

func jsonValue(dec *json.Decoder, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			v, err := jsonValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		if _, err := t.Int64(); err == nil {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: t.String()}, nil
		}
		if _, err := t.Float64(); err != nil {
			return nil, fmt.Errorf("number out of range")
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}, nil
	default:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
}

// parseDotenv reads KEY=value lines into a mapping of strings, as SOPS does: "#"
// starts a comment line, "\n" in a value is a line break, and the metadata is
// held by keys starting with "sops_", flattened ("sops_age__list_0__map_enc").
func parseDotenv(data []byte) (document, error) {
	doc := document{root: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, line: 1, comments: map[int][]string{}}
	flat := map[string]any{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			n := len(doc.root.Content) / 2
			doc.comments[n] = append(doc.comments[n], string(line[1:]))
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			return doc, fmt.Errorf("%w: line %d: no '='", ErrInvalid, i+1)
		}
		value := strings.ReplaceAll(string(v), `\n`, "\n")
		if rest, ok := strings.CutPrefix(string(k), "sops_"); ok {
			flat[rest] = value
			continue
		}
		doc.root.Content = append(doc.root.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(k), Line: i + 1},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: i + 1})
	}
	if len(flat) > 0 {
		m, err := unflatten(flat)
		if err != nil {
			return doc, err
		}
		if isMetadata(m) {
			doc.meta = m
		}
	}
	return doc, nil
}

// unflatten turns the flattened keys of dotenv metadata into a tree:
// "age__list_0__map_enc" is m["age"][0]["enc"].
func unflatten(flat map[string]any) (map[string]any, error) {
	root := map[string]any{}
	for key, value := range flat {
		var cur any = root
		parts := splitFlat(key)
		for i, p := range parts {
			last := i == len(parts)-1
			var next any
			if last {
				next = value
			}
			switch c := cur.(type) {
			case map[string]any:
				if p.list {
					return nil, fmt.Errorf("%w: sops_%s: a list index where a key belongs", ErrInvalid, key)
				}
				if c[p.key] == nil || last {
					if !last {
						next = newContainer(parts[i+1])
					}
					c[p.key] = next
				}
				cur = c[p.key]
			case *[]any:
				if !p.list || p.index < 0 || p.index > 1000 {
					return nil, fmt.Errorf("%w: sops_%s: bad list index", ErrInvalid, key)
				}
				for len(*c) <= p.index {
					*c = append(*c, nil)
				}
				if (*c)[p.index] == nil || last {
					if !last {
						next = newContainer(parts[i+1])
					}
					(*c)[p.index] = next
				}
				cur = (*c)[p.index]
			default:
				return nil, fmt.Errorf("%w: sops_%s: a key below a value", ErrInvalid, key)
			}
		}
	}
	return derefLists(root).(map[string]any), nil
}

type flatPart struct {
	key   string
	list  bool
	index int
}

func newContainer(p flatPart) any {
	if p.list {
		return &[]any{}
	}
	return map[string]any{}
}

// splitFlat splits a flattened key at its "__map_" and "__list_" separators.
func splitFlat(key string) []flatPart {
	var parts []flatPart
	cur := flatPart{}
	for {
		i, j := strings.Index(key, "__map_"), strings.Index(key, "__list_")
		if i < 0 && j < 0 {
			break
		}
		next := flatPart{}
		if j >= 0 && (i < 0 || j < i) {
			i = j
			next.list = true
		}
		seg := key[:i]
		if cur.list {
			cur.index, _ = strconv.Atoi(seg)
			if _, err := strconv.Atoi(seg); err != nil {
				cur.index = -1
			}
		} else {
			cur.key = seg
		}
		parts = append(parts, cur)
		cur = next
		if next.list {
			key = key[i+len("__list_"):]
		} else {
			key = key[i+len("__map_"):]
		}
	}
	if cur.list {
		var err error
		if cur.index, err = strconv.Atoi(key); err != nil {
			cur.index = -1
		}
	} else {
		cur.key = key
	}
	return append(parts, cur)
}

// derefLists replaces the *[]any of unflatten with []any.
func derefLists(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = derefLists(e)
		}
		return v
	case *[]any:
		for i, e := range *v {
			(*v)[i] = derefLists(e)
		}
		return *v
	}
	return v
}

// emit writes the decrypted documents in format f: YAML documents, JSON, dotenv
// lines, or the bytes of a binary file.
func emit(f format, docs []document) ([]byte, error) {
	var b bytes.Buffer
	switch f {
	case formatBinary:
		root := docs[0].root
		return []byte(root.Content[1].Value), nil
	case formatJSON:
		if err := writeJSON(&b, docs[0].root, ""); err != nil {
			return nil, err
		}
		b.WriteByte('\n')
		return b.Bytes(), nil
	case formatDotenv:
		c := docs[0].root.Content
		for i := 0; i <= len(c)/2; i++ {
			for _, line := range docs[0].comments[i] {
				fmt.Fprintf(&b, "#%s\n", line)
			}
			if 2*i+1 < len(c) {
				fmt.Fprintf(&b, "%s=%s\n", c[2*i].Value, strings.ReplaceAll(c[2*i+1].Value, "\n", `\n`))
			}
		}
		return b.Bytes(), nil
	}
	// Each document starts on the line it starts on in the encrypted file, so
	// that the origins of its objects point into that file.
	line := 1
	for i, d := range docs {
		clearComments(d.root)
		var one bytes.Buffer
		enc := yaml.NewEncoder(&one)
		enc.SetIndent(2)
		if err := enc.Encode(d.root); err != nil {
			return nil, fmt.Errorf("encode YAML: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
			line++
		}
		for ; line < d.line; line++ {
			b.WriteByte('\n')
		}
		b.Write(one.Bytes())
		line += bytes.Count(one.Bytes(), []byte("\n"))
	}
	return b.Bytes(), nil
}

// clearComments drops the comments of n: SOPS encrypts them, and a manifest
// does not need them.
func clearComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		clearComments(c)
	}
}

// writeJSON writes n as indented JSON.
func writeJSON(b *bytes.Buffer, n *yaml.Node, indent string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		return writeJSON(b, n.Content[0], indent)
	case yaml.MappingNode, yaml.SequenceNode:
		open, end, step := "[", "]", 1
		if n.Kind == yaml.MappingNode {
			open, end, step = "{", "}", 2
		}
		b.WriteString(open)
		if len(n.Content) == 0 {
			b.WriteString(end)
			return nil
		}
		inner := indent + "    "
		for i := 0; i < len(n.Content); i += step {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n" + inner)
			v := n.Content[i]
			if step == 2 {
				k, _ := json.Marshal(v.Value)
				b.Write(k)
				b.WriteString(": ")
				v = n.Content[i+1]
			}
			if err := writeJSON(b, v, inner); err != nil {
				return err
			}
		}
		b.WriteString("\n" + indent + end)
		return nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float", "!!bool":
			b.WriteString(n.Value)
		case "!!null":
			b.WriteString("null")
		default:
			s, _ := json.Marshal(n.Value)
			b.Write(s)
		}
		return nil
	}
	return fmt.Errorf("%w: cannot write a YAML alias as JSON", ErrInvalid)
}
