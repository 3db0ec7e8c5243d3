package diff

import (
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/gitopskit/gitopskit/diff/internal/builtin"
)

// builtinSchemas are the built-in kinds' schemas shipped with the package, decoded
// on first use: the index (kinds, scopes, the fields the server rewrites) when an
// object of a built-in kind is merged, the types only when no other source types
// it. One value is shared by every engine (sharedBuiltin); it is safe for
// concurrent use.
type builtinSchemas struct {
	indexOnce sync.Once
	index     *builtinIndex
	indexErr  error

	typesOnce sync.Once
	tc        *smdConverter
	meta      []smdschema.TypeDef // ObjectMeta and the types it refers to
	typesErr  error
}

type builtinIndex struct {
	version string
	kinds   map[schema.GroupVersionKind]builtin.Kind
	fields  map[string]map[string]*builtin.Field
}

// loadIndex returns the index, decoding it on the first call.
func (b *builtinSchemas) loadIndex() (*builtinIndex, error) {
	b.indexOnce.Do(func() {
		ix, err := builtin.LoadIndex()
		if err != nil {
			b.indexErr = err
			return
		}
		out := &builtinIndex{version: ix.KubernetesVersion, kinds: make(map[schema.GroupVersionKind]builtin.Kind, len(ix.Kinds)), fields: ix.Fields}
		for _, k := range ix.Kinds {
			out.kinds[k.GroupVersionKind()] = k
		}
		b.index = out
	})
	return b.index, b.indexErr
}

// kind returns the built-in kind gvk; ok is false for other kinds.
func (b *builtinSchemas) kind(gvk schema.GroupVersionKind) (k builtin.Kind, ok bool, err error) {
	if !isBuiltinGroup(gvk.Group) {
		return k, false, nil
	}
	ix, err := b.loadIndex()
	if err != nil {
		return k, false, err
	}
	k, ok = ix.kinds[gvk]
	return k, ok, nil
}

// typeConverter returns the converter of the built-in kinds, decoding the types
// on the first call.
func (b *builtinSchemas) typeConverter() (*smdConverter, error) {
	b.loadTypes()
	return b.tc, b.typesErr
}

// metaTypes returns the types of object metadata, for CRD schemas.
func (b *builtinSchemas) metaTypes() ([]smdschema.TypeDef, error) {
	b.loadTypes()
	return b.meta, b.typesErr
}

func (b *builtinSchemas) loadTypes() {
	b.typesOnce.Do(func() {
		ix, err := b.loadIndex()
		if err != nil {
			b.typesErr = err
			return
		}
		ts, err := builtin.LoadTypes()
		if err != nil {
			b.typesErr = err
			return
		}
		names := make(map[schema.GroupVersionKind]string, len(ix.kinds))
		for gvk, k := range ix.kinds {
			names[gvk] = k.Type
		}
		b.meta = metaClosure(ts)
		b.tc = &smdConverter{parser: &typed.Parser{Schema: smdschema.Schema{Types: ts}}, names: names}
	})
}

// smdConverter is a managedfields.TypeConverter over structured-merge-diff types
// named per kind, as the API server's own converter is once built.
type smdConverter struct {
	parser *typed.Parser
	names  map[schema.GroupVersionKind]string
}

var _ managedfields.TypeConverter = (*smdConverter)(nil)

func (c *smdConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	name, ok := c.names[gvk]
	if !ok {
		return nil, fmt.Errorf("no corresponding type for %v", gvk)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("%v: %T is not unstructured", gvk, obj)
	}
	return c.parser.Type(name).FromUnstructured(u.Object, opts...)
}

func (c *smdConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	u, ok := v.AsValue().Unstructured().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("typed value is not an object")
	}
	return &unstructured.Unstructured{Object: u}, nil
}

// decodeLikeServer rewrites obj, of the built-in kind k, as the API server's
// decoding into its Go types and encoding back would: quantities in canonical
// form ("0.5" and 0.5 become "500m", 1e3 becomes "1k") and scalars the types omit
// when empty (a false, 0 or "" of an omitempty field) removed. obj is modified.
func (ix *builtinIndex) decodeLikeServer(obj map[string]any, k builtin.Kind) {
	ix.object(obj, k.Type)
}

// labelsFromTemplate are the kinds whose defaulting gives an object without labels
// the labels of its pod template.
var labelsFromTemplate = map[schema.GroupKind]bool{
	{Group: "batch", Kind: "Job"}:   true,
	{Kind: "ReplicationController"}: true,
}

// defaultLabels gives obj, of a kind in labelsFromTemplate that has no labels left
// after the merge, its template's labels, as the server's defaulting does.
func defaultLabels(obj map[string]any, gk schema.GroupKind) {
	if !labelsFromTemplate[gk] {
		return
	}
	if labels, _, _ := unstructured.NestedMap(obj, "metadata", "labels"); len(labels) > 0 {
		return
	}
	if labels, ok, _ := unstructured.NestedMap(obj, "spec", "template", "metadata", "labels"); ok && labels != nil {
		_ = unstructured.SetNestedMap(obj, labels, "metadata", "labels")
	}
}

func (ix *builtinIndex) object(m map[string]any, typeName string) {
	for name, f := range ix.fields[typeName] {
		v, ok := m[name]
		if !ok {
			continue
		}
		if nv, keep := ix.value(v, f); keep {
			m[name] = nv
		} else {
			delete(m, name)
		}
	}
}

// value returns what the server stores for v, a value of field f, and false
// when it stores nothing.
func (ix *builtinIndex) value(v any, f *builtin.Field) (any, bool) {
	switch {
	case f.Quantity:
		return quantityValue(v), true
	case f.OmitZero:
		return v, !isZero(v)
	case f.Type != "":
		if m, ok := v.(map[string]any); ok {
			ix.object(m, f.Type)
		}
	case f.Elem != nil:
		switch t := v.(type) {
		case []any:
			for i, e := range t {
				t[i], _ = ix.value(e, f.Elem)
			}
		case map[string]any:
			for k, e := range t {
				t[k], _ = ix.value(e, f.Elem)
			}
		}
	}
	return v, true
}

func isZero(v any) bool {
	switch t := v.(type) {
	case bool:
		return !t
	case string:
		return t == ""
	}
	n, ok := number(v)
	return ok && n == 0
}

// quantityValue returns the canonical form of a quantity written as a string or
// a number, as the server would store it; anything else is returned as is.
func quantityValue(v any) any {
	switch t := v.(type) {
	case string:
		return canonicalQuantity(t)
	case int64, int, int32, float64:
		// The server reads the number's JSON text as a quantity.
		b, err := json.Marshal(t)
		if err != nil {
			return v
		}
		q, err := resource.ParseQuantity(string(b))
		if err != nil {
			return v
		}
		return q.String()
	}
	return v
}
