package object

import (
	"strconv"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/gitopskit/gitopskit/internal/yamlcheck"
)

// stringifyMetadata makes the label and annotation values of the object m that are
// not strings into strings, for Decoder.Lenient: a scalar becomes its text as
// written in yamlDoc, the YAML document m was decoded from (at the List item path
// items), and null becomes "", which is what the API server stores for it. Values
// that are maps or lists are left for validate to refuse.
func stringifyMetadata(m map[string]any, yamlDoc []byte, items []int) {
	meta, _ := m["metadata"].(map[string]any)
	var node *yamlv3.Node // parsed when first needed
	for _, field := range []string{"labels", "annotations"} {
		kv, _ := meta[field].(map[string]any)
		for k, v := range kv {
			switch v := v.(type) {
			case string, map[string]any, []any:
				continue
			case nil:
				kv[k] = ""
				continue
			case bool:
				kv[k] = strconv.FormatBool(v)
			case int64:
				kv[k] = strconv.FormatInt(v, 10)
			case float64:
				kv[k] = strconv.FormatFloat(v, 'g', -1, 64)
			}
			if node == nil {
				node = parseNode(yamlDoc)
			}
			if text, ok := scalarAt(node, items, "metadata", field, k); ok {
				kv[k] = text
			}
		}
	}
}

// parseNode parses a YAML document, or returns nil.
func parseNode(doc []byte) *yamlv3.Node {
	var n yamlv3.Node
	if len(doc) == 0 || yamlv3.Unmarshal(doc, &n) != nil || len(n.Content) != 1 {
		return nil
	}
	return n.Content[0]
}

// scalarAt returns the text of the scalar at the field path of the object at the
// List item path items of the document root.
func scalarAt(root *yamlv3.Node, items []int, path ...string) (string, bool) {
	n := root
	for _, i := range items {
		list := yamlcheck.MapValue(n, "items")
		if list == nil || list.Kind != yamlv3.SequenceNode || i >= len(list.Content) {
			return "", false
		}
		n = list.Content[i]
	}
	for _, k := range path {
		n = yamlcheck.MapValue(n, k)
	}
	if n == nil || n.Kind != yamlv3.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// sourceText returns a function giving the text of a scalar field of the object
// at the List item path items of yamlDoc, or "" when it is not known. It parses
// yamlDoc when first called.
func sourceText(yamlDoc []byte, items []int) func(path ...string) string {
	if len(yamlDoc) == 0 {
		return nil
	}
	var root *yamlv3.Node
	return func(path ...string) string {
		if root == nil {
			root = parseNode(yamlDoc)
		}
		s, _ := scalarAt(root, items, path...)
		return s
	}
}
