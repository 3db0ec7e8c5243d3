package object

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/gitopskit/gitopskit/internal/yamlcheck"
)

// yamlToJSON converts one YAML document to JSON as sigs.k8s.io/yaml's YAMLToJSON
// (YAMLToJSONStrict unless Lenient) does, which is how kubectl reads it, except
// that it refuses what that conversion silently changes: two keys that become the
// same JSON key (1 and "1", yes and true), of which it would keep either at
// random, and integers beyond int64, which become floats that the API server
// stores as another number. Those errors are *yamlcheck.Error, with the line in
// the file; doc starts at line start.
func (st *stream) yamlToJSON(doc []byte, start int) ([]byte, error) {
	unmarshal := yamlv2.UnmarshalStrict
	if st.d.Lenient {
		unmarshal = yamlv2.Unmarshal // the last of duplicate keys wins
	}
	var v any
	if err := unmarshal(doc, &v); err != nil {
		return nil, err
	}
	var c converter
	j, err := c.jsonable(v)
	if err != nil {
		return nil, err
	}
	if len(c.collisions) > 0 || c.huge {
		if root := parseNode(doc); root != nil {
			var keep func(string) bool
			if st.d.Lenient {
				keep = isMetadataValue // Lenient makes them strings as written
			}
			opts := yamlcheck.Options{Key: yamlcheck.Key11, Line: start, Keep: keep, LastKeyWins: st.d.Lenient}
			if err := yamlcheck.Check(root, opts); err != nil {
				return nil, err
			}
		}
		if len(c.collisions) > 0 { // not found in the nodes: a merged mapping (<<)
			return nil, &yamlcheck.Error{Line: start, Msg: fmt.Sprintf("two keys of a mapping are the same key %q", slices.Min(c.collisions))}
		}
	}
	return json.Marshal(j)
}

// metadataValue matches the field path of a label or annotation value of an
// object, in a List or not.
var metadataValue = regexp.MustCompile(`^(items\[[0-9]+\]\.)*metadata\.(labels|annotations)\.`)

func isMetadataValue(path string) bool { return metadataValue.MatchString(path) }

// converter makes what go-yaml v2 decoded into what encoding/json encodes, as
// sigs.k8s.io/yaml does, noting what yamlcheck must look at.
type converter struct {
	collisions []string // keys that two keys of a mapping became
	huge       bool     // a number that may be an integer beyond int64
}

func (c *converter) jsonable(v any) (any, error) {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			s, err := yamlcheck.JSONKey(k)
			if err != nil {
				return nil, err
			}
			if _, dup := m[s]; dup {
				c.collisions = append(c.collisions, s)
			}
			if m[s], err = c.jsonable(e); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			var err error
			if l[i], err = c.jsonable(e); err != nil {
				return nil, err
			}
		}
		return l, nil
	case uint64:
		c.huge = c.huge || v > math.MaxInt64
	case float64:
		c.huge = c.huge || math.Abs(v) >= 1<<63
	}
	return v, nil
}

// hasHugeNumber reports whether v, as decoded from JSON, holds a number that may
// have been an integer beyond int64 (decoders make those floats).
func hasHugeNumber(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if hasHugeNumber(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasHugeNumber(e) {
				return true
			}
		}
	case float64:
		return math.Abs(v) >= 1<<63
	}
	return false
}

// checkJSON finds, in document order, the first key written twice in an object of
// the JSON document data (when dups) and the first integer beyond int64. It
// returns nil when there is neither (or data is not valid JSON, which is reported
// elsewhere). data starts at line start of the file.
func checkJSON(data []byte, start int, dups bool) *yamlcheck.Error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	line := func() int { return start + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	var walk func(path string) (*yamlcheck.Error, bool)
	walk = func(path string) (*yamlcheck.Error, bool) {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' {
				seen := map[string]int{}
				for dec.More() {
					kt, err := dec.Token()
					k, ok := kt.(string)
					if err != nil || !ok {
						return nil, false
					}
					p := yamlcheck.Join(path, k)
					if first, dup := seen[k]; dup && dups {
						return &yamlcheck.Error{Line: line(), Msg: fmt.Sprintf("%s: key %q is written twice, at lines %d and %d", p, k, first, line())}, false
					}
					seen[k] = line()
					if ce, ok := walk(p); ce != nil || !ok {
						return ce, ok
					}
				}
			} else if t == '[' {
				for i := 0; dec.More(); i++ {
					if ce, ok := walk(path + "[" + strconv.Itoa(i) + "]"); ce != nil || !ok {
						return ce, ok
					}
				}
			}
			_, err := dec.Token() // the closing delimiter
			return nil, err == nil
		case json.Number:
			if yamlcheck.TooBig(t.String()) {
				if path == "" {
					path = "the document"
				}
				return &yamlcheck.Error{Line: line(), Msg: yamlcheck.TooBigMsg(path, t.String())}, false
			}
		}
		return nil, true
	}
	ce, _ := walk("")
	return ce
}
