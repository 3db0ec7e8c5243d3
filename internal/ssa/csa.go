package ssa

import (
	"bytes"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// DefaultCSAManagers are the field managers of kubectl's client-side apply whose
// fields are migrated to the server-side apply field manager, as kubectl does.
var DefaultCSAManagers = []string{"kubectl-client-side-apply", "kubectl", "before-first-apply"}

// CSASet returns names as a set; nil means [DefaultCSAManagers], and an empty,
// non-nil slice an empty set.
func CSASet(names []string) sets.Set[string] {
	if names == nil {
		names = DefaultCSAManagers
	}
	return sets.New(names...)
}

// HasCSA reports whether obj's managedFields hold an Update entry of one of the
// managers of csa for the object itself (not a subresource): the entries a
// migration moves. It reads the entries in place, without decoding them.
func HasCSA(obj *unstructured.Unstructured, csa sets.Set[string]) bool {
	if obj == nil || len(csa) == 0 {
		return false
	}
	raw, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", "managedFields")
	entries, _ := raw.([]any)
	for _, e := range entries {
		if IsCSAEntry(e, csa) {
			return true
		}
	}
	return false
}

// IsCSAEntry reports whether e, an entry of an unstructured object's
// managedFields, is an Update of one of the managers of csa for the object itself:
// an entry the migration moves.
func IsCSAEntry(e any, csa sets.Set[string]) bool {
	m, _ := e.(map[string]any)
	manager, _ := m["manager"].(string)
	op, _ := m["operation"].(string)
	sub, _ := m["subresource"].(string)
	return op == string(metav1.ManagedFieldsOperationUpdate) && sub == "" && csa.Has(manager)
}

// Migrate returns a copy of live whose managedFields are those the migration leaves
// (csaupgrade.UpgradeManagedFields: the managers of csa's fields become manager's
// applied fields), and whether anything moved. live is not modified; without
// anything to move, live itself is returned.
func Migrate(live *unstructured.Unstructured, csa sets.Set[string], manager string) (*unstructured.Unstructured, bool, error) {
	if !HasCSA(live, csa) {
		return live, false, nil
	}
	out := live.DeepCopy()
	if err := csaupgrade.UpgradeManagedFields(out, csa, manager); err != nil {
		return nil, false, fmt.Errorf("migrate client-side apply fields: %w", err)
	}
	return out, true, nil
}

// released returns the fields that the migration hands to our manager and that the
// apply then gives up, read off the managedFields of out, the result of the apply
// without the migration: the fields the client-side apply managers still own at
// out's API version that no other manager (ours included) owns, neither themselves
// nor below them. They are what the apply after a migration removes on top of what
// the apply without it removed.
func released(out *unstructured.Unstructured, csa sets.Set[string]) (*fieldpath.Set, error) {
	raw, _, _ := unstructured.NestedFieldNoCopy(out.Object, "metadata", "managedFields")
	entries, _ := raw.([]any)
	moved, kept := &fieldpath.Set{}, &fieldpath.Set{}
	for i, e := range entries {
		m, _ := e.(map[string]any)
		set := &fieldpath.Set{}
		if fv, ok := m["fieldsV1"]; ok && fv != nil {
			b, err := json.Marshal(fv)
			if err != nil {
				return nil, fmt.Errorf("managedFields[%d]: %w", i, err)
			}
			if err := set.FromJSON(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("managedFields[%d]: %w", i, err)
			}
		}
		// csaupgrade unions only the entries at the version of the applied one.
		if v, _ := m["apiVersion"].(string); IsCSAEntry(e, csa) && v == out.GetAPIVersion() {
			moved = moved.Union(set)
		} else if !IsCSAEntry(e, csa) {
			kept = kept.Union(set)
		}
	}
	gone := &fieldpath.Set{}
	moved.Iterate(func(p fieldpath.Path) {
		if below := subset(kept, p); !kept.Has(p) && (below == nil || below.Empty()) {
			gone.Insert(p)
		}
	})
	return gone, nil
}

// subset returns the part of s below p, or nil when s holds nothing there.
func subset(s *fieldpath.Set, p fieldpath.Path) *fieldpath.Set {
	for _, pe := range p {
		child, ok := s.Children.Get(pe)
		if !ok {
			return nil
		}
		s = child
	}
	return s
}
