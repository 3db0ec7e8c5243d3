package diff

import (
	"encoding/base64"
	"k8s.io/apimachinery/pkg/runtime"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
)

// serverMetadata are the metadata fields the API server populates; they are never
// drift.
var serverMetadata = []string{
	"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
	"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
}

// lastApplied is kubectl's client-side apply annotation. It repeats the whole object,
// Secret values included, so it is neither compared nor shown.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// templateGeneration is the annotation the API server sets on a DaemonSet and
// increments when its pod template changes: bookkeeping, like metadata.generation.
const templateGeneration = "deprecated.daemonset.template.generation"

// quantityParents are the keys of maps whose string values are resource quantities,
// and quantityKeys the keys that are quantities themselves, in the built-in kinds.
var (
	quantityParents = map[string]bool{
		"limits": true, "requests": true, "hard": true, "used": true, "capacity": true,
		"allocatable": true, "max": true, "min": true, "default": true,
		"defaultRequest": true, "maxLimitRequestRatio": true, "overhead": true,
	}
	quantityKeys = map[string]bool{"sizeLimit": true}
)

// normalize returns a copy of u for comparison: server-populated metadata (a
// DaemonSet's template generation included), the last-applied annotation and
// status removed, nulls and empty maps and lists
// removed (the API server does not store them), a Secret's stringData folded into
// data, and quantities of built-in kinds in canonical form, so "1000m" equals "1".
// copyWithout deep-copies an object but for its status and server-set metadata,
// which normalize drops anyway: managedFields are often the largest part of a
// live object, and copying them only to delete them is most of the cost.
func copyWithout(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		switch md, isMap := v.(map[string]any); {
		case k == "status":
		case k == "metadata" && isMap:
			m := make(map[string]any, len(md))
			for mk, mv := range md {
				if !slices.Contains(serverMetadata, mk) {
					m[mk] = runtime.DeepCopyJSONValue(mv)
				}
			}
			out[k] = m
		default:
			out[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	return out
}

func normalize(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	out := &unstructured.Unstructured{Object: copyWithout(u.Object)}
	o := out.Object
	id := object.IDOf(out)
	if md, ok := o["metadata"].(map[string]any); ok {
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, lastApplied)
			if id.Group == "apps" && id.Kind == "DaemonSet" {
				delete(ann, templateGeneration)
			}
		}
	}
	if isSecret(id) {
		foldStringData(o)
	}
	builtin := isBuiltinGroup(id.Group)
	prune(o, "", builtin)
	if out.Object["metadata"] == nil {
		out.Object["metadata"] = map[string]any{}
	}
	return out
}

func isSecret(id object.ID) bool { return id.Group == "" && id.Kind == "Secret" }

// isBuiltinGroup reports whether group is one of Kubernetes' own API groups, whose
// quantity fields are known by name.
func isBuiltinGroup(g string) bool {
	return g == "" || !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}

// foldStringData moves a Secret's stringData into data, base64-encoded, as the API
// server does on write.
func foldStringData(o map[string]any) {
	sd, ok := o["stringData"].(map[string]any)
	if !ok {
		delete(o, "stringData")
		return
	}
	data, _ := o["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	o["data"] = data
	delete(o, "stringData")
}

// prune removes nulls and empty maps and lists below v, and canonicalizes
// quantities when builtin is set. key is the key v is held under.
func prune(v any, key string, builtin bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			c = prune(c, k, builtin)
			if isEmpty(c) {
				delete(t, k)
				continue
			}
			if builtin && (quantityParents[key] || quantityKeys[k]) {
				c = quantityValue(c)
			}
			t[k] = c
		}
		return t
	case []any:
		for i, c := range t {
			t[i] = prune(c, "", builtin)
		}
		return t
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

func canonicalQuantity(s string) string {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return s
	}
	return q.String()
}

// dropNulls removes null values below m: an apply that sets a field to null stores
// nothing for it.
func dropNulls(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(t)
		case []any:
			for _, e := range t {
				if em, ok := e.(map[string]any); ok {
					dropNulls(em)
				}
			}
		}
	}
}
