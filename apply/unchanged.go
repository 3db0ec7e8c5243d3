package apply

import (
	"github.com/gitopskit/gitopskit/internal/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// unchanged reports whether a server-side apply of desired by manager would leave
// live as it is, so the write can be skipped. It is deliberately conservative: when
// in doubt it returns false and the object is applied.
//
// Two things must hold. First, every field of desired has the same value in live,
// so the apply changes no value. Second, manager's Apply entry in live's
// managedFields, for desired's API version, owns exactly the fields of desired: no
// field of desired would be newly owned, and no field owned before would be released
// (and so removed). The field set of desired is built without a schema, by following
// the shape of the owned set: where it keys a list's items by fields or values, the
// items of desired are keyed the same way; where it owns a list or map whole, so
// does desired.
//
// The diff package's offline engine can replace this check later.
func unchanged(desired, live *unstructured.Unstructured, manager string) bool {
	if !ssa.Declared(desired, live) {
		return false
	}
	owned := appliedFields(live, manager, desired.GetAPIVersion())
	if owned == nil {
		return false
	}
	want := fieldpath.NewSet()
	if !fieldSet(want, nil, ssa.TrimIdentity(desired.Object), owned) {
		return false
	}
	return want.Leaves().Equals(owned.Leaves())
}

// appliedFields returns the fields manager owns in live through an Apply at
// apiVersion, or nil.
func appliedFields(live *unstructured.Unstructured, manager, apiVersion string) *fieldpath.Set {
	for _, e := range live.GetManagedFields() {
		if e.Manager != manager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" ||
			e.APIVersion != apiVersion || e.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(e.FieldsV1.GetRawReader()); err != nil {
			return nil
		}
		return s
	}
	return nil
}

// fieldSet adds the fields of v at path to set, following the shape of owned (the
// owned set at the same path). It returns false when the shape cannot be matched,
// which makes the caller apply.
func fieldSet(set *fieldpath.Set, path fieldpath.Path, v any, owned *fieldpath.Set) bool {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			set.Insert(path)
			return true
		}
		for k, fv := range v {
			pe := fieldpath.PathElement{FieldName: &k}
			p := append(path[:len(path):len(path)], pe)
			child, hasChild := ownedChild(owned, pe)
			if !hasChild && owned != nil && owned.Members.Has(pe) {
				// Owned whole: an atomic map or list, or a scalar.
				set.Insert(p)
				continue
			}
			if l, ok := fv.([]any); ok {
				if !listSet(set, p, l, child) {
					return false
				}
				continue
			}
			if !fieldSet(set, p, fv, child) {
				return false
			}
		}
		return true
	default:
		set.Insert(path)
		return true
	}
}

// listSet adds the items of a granular list, keyed like the items of owned.
func listSet(set *fieldpath.Set, path fieldpath.Path, items []any, owned *fieldpath.Set) bool {
	if owned == nil {
		return false
	}
	var candidates []fieldpath.PathElement
	owned.Members.Iterate(func(pe fieldpath.PathElement) { candidates = append(candidates, pe) })
	owned.Children.Iterate(func(pe fieldpath.PathElement) {
		if !owned.Members.Has(pe) {
			candidates = append(candidates, pe)
		}
	})
	used := map[int]bool{}
	for _, it := range items {
		match := -1
		for i, pe := range candidates {
			if itemMatches(pe, it) {
				if match >= 0 {
					return false
				}
				match = i
			}
		}
		if match < 0 || used[match] {
			return false
		}
		used[match] = true
		pe := candidates[match]
		p := append(path[:len(path):len(path)], pe)
		set.Insert(p)
		if m, ok := it.(map[string]any); ok && len(m) > 0 {
			child, _ := owned.Children.Get(pe)
			if !fieldSet(set, p, m, child) {
				return false
			}
		}
	}
	return true
}

// itemMatches reports whether list item it is the one pe names: by its key fields
// (a key field the item leaves out matches, as the API server defaults it) or by
// its value.
func itemMatches(pe fieldpath.PathElement, it any) bool {
	switch {
	case pe.Key != nil:
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		for _, f := range *pe.Key {
			v, ok := m[f.Name]
			if ok && !value.Equals(value.NewValueInterface(v), f.Value) {
				return false
			}
		}
		return true
	case pe.Value != nil:
		return value.Equals(value.NewValueInterface(it), *pe.Value)
	}
	return false
}

func ownedChild(owned *fieldpath.Set, pe fieldpath.PathElement) (*fieldpath.Set, bool) {
	if owned == nil {
		return nil, false
	}
	return owned.Children.Get(pe)
}
