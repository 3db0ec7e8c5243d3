package main

import (
	"fmt"
	"reflect"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/gitopskit/gitopskit/diff/internal/builtin"
)

var quantityType = reflect.TypeOf(resource.Quantity{})

// roundTrip walks the Go types of the built-in kinds (k8s.io/api and the
// apiextensions group, at the versions go.mod names) and returns, per OpenAPI type
// name, the fields the API server's decoding and encoding change: quantities
// (stored in canonical form) and scalars tagged omitempty (a zero value is not
// stored), and the fields that lead to such fields.
func roundTrip(kinds []builtin.Kind) (map[string]map[string]*builtin.Field, error) {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		return nil, err
	}
	w := walker{out: map[string]map[string]*builtin.Field{}, seen: map[reflect.Type]bool{}}
	known := s.AllKnownTypes()
	for _, k := range kinds {
		t, ok := known[k.GroupVersionKind()]
		if !ok || !strings.HasPrefix(t.PkgPath(), "k8s.io/") {
			continue
		}
		if name := w.typeName(t); name != k.Type {
			return nil, fmt.Errorf("%s: Go type %s is named %s, the documents say %s", k.GroupVersionKind(), t, name, k.Type)
		}
		w.walk(t)
	}
	return w.out, nil
}

type walker struct {
	out  map[string]map[string]*builtin.Field
	seen map[reflect.Type]bool
}

// typeName is the OpenAPI name of a Go type: k8s.io/api/core/v1.PodSpec is
// io.k8s.api.core.v1.PodSpec.
func (w *walker) typeName(t reflect.Type) string {
	parts := strings.Split(t.PkgPath(), "/")
	host := strings.Split(parts[0], ".")
	for i, j := 0, len(host)-1; i < j; i, j = i+1, j-1 {
		host[i], host[j] = host[j], host[i]
	}
	return strings.Join(append(host, parts[1:]...), ".") + "." + t.Name()
}

// walk records the interesting fields of struct type t and reports whether it
// has any.
func (w *walker) walk(t reflect.Type) bool {
	name := w.typeName(t)
	if w.seen[t] {
		return len(w.out[name]) > 0
	}
	w.seen[t] = true
	fields := map[string]*builtin.Field{}
	w.fields(t, fields)
	if len(fields) == 0 {
		return false
	}
	w.out[name] = fields
	return true
}

// fields adds the interesting fields of t to out, inlined structs included.
func (w *walker) fields(t reflect.Type, out map[string]*builtin.Field) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") || (sf.Anonymous && name == "") {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			w.fields(ft, out)
			continue
		}
		if name == "" {
			name = sf.Name
		}
		omitEmpty := strings.Contains(","+opts+",", ",omitempty,")
		if f := w.field(sf.Type, omitEmpty); f != nil {
			out[name] = f
		}
	}
}

// field describes a value of type t, or returns nil when decoding leaves it as
// written.
func (w *walker) field(t reflect.Type, omitEmpty bool) *builtin.Field {
	pointer := t.Kind() == reflect.Pointer
	if pointer {
		t = t.Elem()
	}
	if t == quantityType {
		return &builtin.Field{Quantity: true}
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		if omitEmpty && !pointer {
			return &builtin.Field{OmitZero: true}
		}
	case reflect.Struct:
		if implementsJSON(t) || t.PkgPath() == "" {
			return nil // a type with its own encoding (Time, IntOrString, RawExtension)
		}
		if w.walk(t) {
			return &builtin.Field{Type: w.typeName(t)}
		}
	case reflect.Slice, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil // []byte: base64
		}
		if e := w.field(t.Elem(), false); e != nil {
			return &builtin.Field{Elem: e}
		}
	}
	return nil
}

func implementsJSON(t reflect.Type) bool {
	type marshaler interface{ MarshalJSON() ([]byte, error) }
	m := reflect.TypeOf((*marshaler)(nil)).Elem()
	return t.Implements(m) || reflect.PointerTo(t).Implements(m)
}
