package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/gitopskit/gitopskit/internal/ssa"
)

// managerID is the key the API server gives an Apply entry of manager in its
// managed-fields bookkeeping: the entry encoded without fields, time and apiVersion.
func managerID(manager string) (string, error) {
	return entryID(&metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationApply})
}

func entryID(e *metav1.ManagedFieldsEntry) (string, error) {
	c := *e
	c.FieldsType, c.FieldsV1, c.Time = "", nil, nil
	if c.Operation == metav1.ManagedFieldsOperationApply {
		c.APIVersion = ""
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode manager %q: %w", e.Manager, err)
	}
	return string(b), nil
}

// managerName turns an identifier from entryID back into the manager's name.
func managerName(id string) string {
	var e metav1.ManagedFieldsEntry
	if json.Unmarshal([]byte(id), &e) == nil && e.Manager != "" {
		return e.Manager
	}
	return id
}

// liveManagers returns live's managedFields as the apply finds them after it
// migrated the fields of the client-side apply managers csa to manager, and after
// the server defaulted again those the migration moved but kubectl never declared
// (see declaredOnly).
func liveManagers(live *unstructured.Unstructured, csa sets.Set[string], manager string) (fieldpath.ManagedFields, error) {
	if ssa.HasCSA(live, csa) {
		var err error
		if live, err = declaredOnly(live, csa); err != nil {
			return nil, err
		}
	}
	live, _, err := ssa.Migrate(live, csa, manager)
	if err != nil {
		return nil, err
	}
	return decodeManagedFields(live)
}

// declaredOnly returns a copy of live in which the entries of the client-side
// apply managers csa keep only the fields that kubectl's last-applied annotation
// declares. The others are what the server defaulted when kubectl wrote the object
// (an Update owns them): migrated, the apply releases them and the server defaults
// them again, to the same values. The offline merge cannot default, so it must not
// release them; unowned, they stay, as they will. Without the annotation, live is
// returned as it is.
func declaredOnly(live *unstructured.Unstructured, csa sets.Set[string]) (*unstructured.Unstructured, error) {
	raw, _, _ := unstructured.NestedFieldNoCopy(live.Object, "metadata", "annotations", lastApplied)
	var declared map[string]any
	if s, _ := raw.(string); s == "" || json.Unmarshal([]byte(s), &declared) != nil {
		return live, nil
	}
	out := live.DeepCopy()
	raw, _, _ = unstructured.NestedFieldNoCopy(out.Object, "metadata", "managedFields")
	entries, _ := raw.([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		if !ssa.IsCSAEntry(e, csa) || m["fieldsV1"] == nil {
			continue
		}
		b, err := json.Marshal(m["fieldsV1"])
		if err != nil {
			return nil, err
		}
		set, kept := &fieldpath.Set{}, &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("managedFields of %q: %w", m["manager"], err)
		}
		set.Iterate(func(p fieldpath.Path) {
			if _, set := lookup(declared, p); set != nil || isMember(declared, p) {
				kept.Insert(p)
			}
		})
		if b, err = kept.ToJSON(); err != nil {
			return nil, err
		}
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, err
		}
		m["fieldsV1"] = fields
	}
	return out, nil
}

// decodeManagedFields reads obj's managedFields into structured-merge-diff's form.
// It reads the unstructured entries directly: converting them to typed entries
// first costs more than the rest of an unchanged object's diff.
func decodeManagedFields(obj *unstructured.Unstructured) (fieldpath.ManagedFields, error) {
	// Read in place: NestedSlice would deep-copy every entry only to parse it.
	raw, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", "managedFields")
	entries, _ := raw.([]any)
	out := make(fieldpath.ManagedFields, len(entries))
	for i, raw := range entries {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("managedFields[%d] is not an object", i)
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		e := &metav1.ManagedFieldsEntry{
			Manager: str("manager"), Operation: metav1.ManagedFieldsOperationType(str("operation")),
			APIVersion: str("apiVersion"), Subresource: str("subresource"),
		}
		id, err := entryID(e)
		if err != nil {
			return nil, err
		}
		set := &fieldpath.Set{}
		if fv, ok := m["fieldsV1"]; ok && fv != nil {
			b, err := json.Marshal(fv)
			if err != nil {
				return nil, fmt.Errorf("managedFields of %q: %w", e.Manager, err)
			}
			if err := set.FromJSON(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("managedFields of %q: %w", e.Manager, err)
			}
		}
		if prev, ok := out[id]; ok {
			set = set.Union(prev.Set())
		}
		out[id] = fieldpath.NewVersionedSet(set, fieldpath.APIVersion(e.APIVersion), e.Operation == metav1.ManagedFieldsOperationApply)
	}
	return out, nil
}

// foreignFields lists the leaf fields of live that managers other than manager own
// and that manager's last apply did not declare, leaving out status and metadata
// the server maintains.
func foreignFields(live *unstructured.Unstructured, managers fieldpath.ManagedFields, manager string) ([]string, error) {
	if live == nil {
		return nil, nil
	}
	ours, err := managerID(manager)
	if err != nil {
		return nil, err
	}
	others := &fieldpath.Set{}
	for id, vs := range managers {
		if id != ours {
			others = others.Union(vs.Set())
		}
	}
	if vs, ok := managers[ours]; ok {
		others = others.Difference(vs.Set())
	}
	var out []string
	others.Leaves().Iterate(func(p fieldpath.Path) {
		s := p.String()
		if s == ".status" || strings.HasPrefix(s, ".status.") || isServerMetadataPath(s) {
			return
		}
		out = append(out, s)
	})
	sort.Strings(out)
	return out, nil
}

func isServerMetadataPath(p string) bool {
	for _, f := range serverMetadata {
		if p == ".metadata."+f || strings.HasPrefix(p, ".metadata."+f+".") {
			return true
		}
	}
	return strings.HasPrefix(p, `.metadata.annotations.`+lastApplied)
}
