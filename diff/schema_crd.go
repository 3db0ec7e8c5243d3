package diff

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/schemaconv"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/gitopskit/gitopskit/render"
)

const objectMetaType = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

var crdGroupKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// ReadCRDs reads the CustomResourceDefinition manifests in dir of fsys, for
// [OfflineOptions.CRDs]: every .yaml, .yml and .json file, recursively, as
// [render.Plain] reads a directory (other objects are skipped). fsys must confine
// reads to its root, as (*os.Root).FS does. Errors name the file and line.
func ReadCRDs(ctx context.Context, fsys fs.FS, dir string) ([]*unstructured.Unstructured, error) {
	res, err := render.Plain{}.Render(ctx, render.Input{FS: fsys, Dir: dir}, render.Options{})
	if err != nil {
		return nil, fmt.Errorf("read CRDs: %w", err)
	}
	var out []*unstructured.Unstructured
	for _, m := range res.Manifests {
		if m.Object.GroupVersionKind().GroupKind() == crdGroupKind {
			out = append(out, m.Object)
		}
	}
	return out, nil
}

// crdSchemas types custom resources by the schemas of CRD manifests. Each CRD is
// converted on first use. It is safe for concurrent use.
type crdSchemas struct {
	kinds map[schema.GroupVersionKind]*crdSchema
}

// crdSchema is one CRD manifest and, once converted, its converter for all its
// versions.
type crdSchema struct {
	manifest   *unstructured.Unstructured
	namespaced bool

	once sync.Once
	tc   *smdConverter
	err  error
}

// withCRDs returns c with the CRD manifests among objs added; a CRD of objs
// replaces one of c for the same kind. It returns c itself when objs holds none.
func (c *crdSchemas) withCRDs(objs []*unstructured.Unstructured) *crdSchemas {
	var out *crdSchemas
	for _, u := range objs {
		if u == nil || u.GroupVersionKind() != crdGroupKind.WithVersion("v1") {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
		if group == "" || kind == "" {
			continue // the CRD is invalid; applying it fails and says so
		}
		if out == nil {
			out = &crdSchemas{kinds: map[schema.GroupVersionKind]*crdSchema{}}
			if c != nil {
				for k, v := range c.kinds {
					out.kinds[k] = v
				}
			}
		}
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		cs := &crdSchema{manifest: u, namespaced: scope != "Cluster"}
		for _, v := range versions {
			if name, _, _ := unstructured.NestedString(asMap(v), "name"); name != "" {
				out.kinds[schema.GroupVersionKind{Group: group, Version: name, Kind: kind}] = cs
			}
		}
	}
	if out == nil {
		return c
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// lookup returns the CRD manifest of gvk, or nil.
func (c *crdSchemas) lookup(gvk schema.GroupVersionKind) *crdSchema {
	if c == nil {
		return nil
	}
	return c.kinds[gvk]
}

// typeConverter converts the CRD on first use. base holds the built-in types,
// for the object metadata.
func (cs *crdSchema) typeConverter(base func() ([]smdschema.TypeDef, error)) (*smdConverter, error) {
	cs.once.Do(func() {
		cs.tc, cs.err = convertCRD(cs.manifest, base)
		if cs.err != nil {
			cs.err = fmt.Errorf("CRD manifest %s: %w", cs.manifest.GetName(), cs.err)
		}
	})
	return cs.tc, cs.err
}

// convertCRD builds the converter of a CRD's versions as the API server builds it
// for server-side apply: each version's openAPIV3Schema with apiVersion, kind and
// metadata (object metadata) at the root and in every embedded resource,
// converted with schemaconv.
func convertCRD(crd *unstructured.Unstructured, base func() ([]smdschema.TypeDef, error)) (*smdConverter, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	preserve, _, _ := unstructured.NestedBool(crd.Object, "spec", "preserveUnknownFields")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	models := map[string]*spec.Schema{}
	names := map[schema.GroupVersionKind]string{}
	for i, v := range versions {
		name, _, _ := unstructured.NestedString(asMap(v), "name")
		raw, ok, _ := unstructured.NestedFieldNoCopy(asMap(v), "schema", "openAPIV3Schema")
		if !ok {
			return nil, fmt.Errorf("version %q (spec.versions[%d]) has no schema.openAPIV3Schema", name, i)
		}
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("version %q: %w", name, err)
		}
		s := &spec.Schema{}
		if err := json.Unmarshal(b, s); err != nil {
			return nil, fmt.Errorf("version %q: schema: %w", name, err)
		}
		addObjectProperties(s)
		addEmbeddedProperties(s)
		model := modelName(group, name, kind)
		models[model] = s
		names[schema.GroupVersionKind{Group: group, Version: name, Kind: kind}] = model
	}
	converted, err := schemaconv.ToSchemaFromOpenAPI(models, preserve)
	if err != nil {
		return nil, err
	}
	meta, err := base()
	if err != nil {
		return nil, err
	}
	types := converted.Types
	for _, t := range meta {
		if !slices.ContainsFunc(types, func(c smdschema.TypeDef) bool { return c.Name == t.Name }) {
			types = append(types, t)
		}
	}
	return &smdConverter{parser: &typed.Parser{Schema: smdschema.Schema{Types: types}}, names: names}, nil
}

// modelName is the API server's name for a CRD version's schema:
// com.example.v1.Widget for group example.com.
func modelName(group, version, kind string) string {
	parts := strings.Split(group, ".")
	slices.Reverse(parts)
	return strings.Join(parts, ".") + "." + version + "." + kind
}

func metadataRef() spec.Schema {
	return *spec.RefSchema("#/components/schemas/" + objectMetaType)
}

// addObjectProperties sets the properties every object has, whatever its schema
// says: apiVersion, kind and metadata.
func addObjectProperties(s *spec.Schema) {
	s.SetProperty("apiVersion", *spec.StringProperty())
	s.SetProperty("kind", *spec.StringProperty())
	s.SetProperty("metadata", metadataRef())
}

// addEmbeddedProperties gives every x-kubernetes-embedded-resource below s the
// object properties, as the API server does.
func addEmbeddedProperties(s *spec.Schema) {
	if s == nil {
		return
	}
	for k, v := range s.Properties {
		addEmbeddedProperties(&v)
		s.Properties[k] = v
	}
	if s.Items != nil {
		addEmbeddedProperties(s.Items.Schema)
	}
	if s.AdditionalProperties != nil {
		addEmbeddedProperties(s.AdditionalProperties.Schema)
	}
	if embedded, ok := s.Extensions.GetBool("x-kubernetes-embedded-resource"); ok && embedded {
		addObjectProperties(s)
	}
}

// metaClosure returns the types ObjectMeta refers to, itself included, from all.
func metaClosure(all []smdschema.TypeDef) []smdschema.TypeDef {
	byName := make(map[string]smdschema.TypeDef, len(all))
	for _, t := range all {
		byName[t.Name] = t
	}
	seen := map[string]bool{}
	var out []smdschema.TypeDef
	var visitAtom func(a smdschema.Atom)
	visit := func(r smdschema.TypeRef) {
		if r.NamedType != nil {
			if n := *r.NamedType; !seen[n] {
				seen[n] = true
				if t, ok := byName[n]; ok {
					out = append(out, t)
					visitAtom(t.Atom)
				}
			}
			return
		}
		visitAtom(r.Inlined)
	}
	visitAtom = func(a smdschema.Atom) {
		if a.List != nil {
			visit(a.List.ElementType)
		}
		if a.Map != nil {
			visit(a.Map.ElementType)
			for _, f := range a.Map.Fields {
				visit(f.Type)
			}
		}
	}
	name := objectMetaType
	visit(smdschema.TypeRef{NamedType: &name})
	return out
}
