package ssa

import (
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// removePath removes the field, list item or set member p names from v, and
// returns v. A path that does not resolve changes nothing.
func removePath(v any, p fieldpath.Path) any {
	if len(p) == 0 {
		return v
	}
	pe, rest := p[0], p[1:]
	switch t := v.(type) {
	case map[string]any:
		if pe.FieldName == nil {
			return v
		}
		child, ok := t[*pe.FieldName]
		if !ok {
			return v
		}
		if len(rest) == 0 {
			delete(t, *pe.FieldName)
		} else {
			t[*pe.FieldName] = removePath(child, rest)
		}
		return t
	case []any:
		i := itemIndex(t, pe)
		if i < 0 {
			return v
		}
		if len(rest) == 0 {
			return append(t[:i:i], t[i+1:]...)
		}
		t[i] = removePath(t[i], rest)
		return t
	}
	return v
}

// itemIndex returns the index of the list item pe names (by its key fields, its
// value or its index), or -1.
func itemIndex(l []any, pe fieldpath.PathElement) int {
	for i, item := range l {
		switch {
		case pe.Key != nil:
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			match := true
			for _, f := range *pe.Key {
				if iv, ok := m[f.Name]; !ok || !value.Equals(value.NewValueInterface(iv), f.Value) {
					match = false
					break
				}
			}
			if match {
				return i
			}
		case pe.Value != nil:
			if value.Equals(value.NewValueInterface(item), *pe.Value) {
				return i
			}
		case pe.Index != nil:
			if *pe.Index == i {
				return i
			}
		}
	}
	return -1
}
