package ssa

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// Declared reports whether every value desired declares is in live already (its
// identity aside): apply's first test of an unchanged object, and the whole test
// of an object written by a replace, whose fields set by others the test cannot
// tell from those the server fills in. It errs on "changed".
func Declared(desired, live *unstructured.Unstructured) bool {
	return contains(TrimIdentity(desired.Object), live.Object)
}

// TrimIdentity returns obj without the fields managedFields never records:
// apiVersion, kind, metadata.name and metadata.namespace, a null
// metadata.creationTimestamp that generators print, and metadata itself when
// nothing else is left in it.
func TrimIdentity(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "apiVersion" && k != "kind" {
			out[k] = v
		}
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			if k == "name" || k == "namespace" || (k == "creationTimestamp" && v == nil) {
				continue
			}
			m[k] = v
		}
		if len(m) > 0 {
			out["metadata"] = m
		} else {
			delete(out, "metadata") // the API server records no empty metadata
		}
	}
	return out
}

// contains reports whether every value of desired is in live.
func contains(desired, live any) bool {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, dv := range d {
			lv, ok := l[k]
			if !ok {
				if dv == nil {
					continue
				}
				if m, isMap := dv.(map[string]any); isMap && len(m) == 0 {
					// The API server drops empty maps such as `resources: {}`.
					continue
				}
				return false
			}
			if !contains(dv, lv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return false
		}
		for i := range d {
			if !contains(d[i], l[i]) {
				return false
			}
		}
		return true
	case nil:
		return live == nil
	default:
		if reflect.DeepEqual(desired, live) {
			return true
		}
		return isNumber(desired) && isNumber(live) &&
			value.Equals(value.NewValueInterface(desired), value.NewValueInterface(live))
	}
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int32, int64, float32, float64:
		return true
	}
	return false
}
