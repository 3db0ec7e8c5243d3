package builtin

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
)

// gvkExtension is the OpenAPI extension that names the kinds of a schema or of
// the objects an operation reads or writes.
const gvkExtension = "x-kubernetes-group-version-kind"

// Scopes reads from doc's paths whether each kind is namespaced: a kind is when
// one of its operations has a path under /namespaces/{namespace}/, and is
// cluster-scoped otherwise.
func Scopes(doc *spec3.OpenAPI) map[schema.GroupVersionKind]string {
	out := map[schema.GroupVersionKind]string{}
	if doc == nil || doc.Paths == nil {
		return out
	}
	for p, item := range doc.Paths.Paths {
		if item == nil {
			continue
		}
		namespaced := strings.Contains(p, "/namespaces/{namespace}/")
		for _, op := range []*spec3.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			for _, gvk := range GVKs(op.Extensions[gvkExtension]) {
				if namespaced {
					out[gvk] = Namespaced
				} else if out[gvk] == "" {
					out[gvk] = Cluster
				}
			}
		}
	}
	return out
}

// GVKs reads the value of an x-kubernetes-group-version-kind extension: one
// group-version-kind or a list of them.
func GVKs(ext any) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	add := func(v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		g, _ := m["group"].(string)
		ver, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		if ver != "" && k != "" {
			out = append(out, schema.GroupVersionKind{Group: g, Version: ver, Kind: k})
		}
	}
	switch t := ext.(type) {
	case []any:
		for _, v := range t {
			add(v)
		}
	default:
		add(t)
	}
	return out
}
