package render_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

func decode(t *testing.T, yaml string) *render.Result {
	t.Helper()
	ms, err := object.Decode(strings.NewReader(yaml), "in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &render.Result{Manifests: ms}
}

func mapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	return m
}

const input = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
  labels: {team: old}
data:
  greeting: hello ${NAME}
  port: "${PORT:=8080}"
  escaped: $${NAME}
  count: 3
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: pinned
  namespace: elsewhere
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  raw: ${NAME}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
`

func TestTransform(t *testing.T) {
	res := decode(t, input)
	tr := render.Transform{
		Vars:        map[string]string{"NAME": "world"},
		Strict:      true,
		Namespace:   "shop",
		Mapper:      mapper(),
		Labels:      map[string]string{"team": "storefront"},
		Annotations: map[string]string{"owner": "gitopskit"},
	}
	if err := tr.Apply(res); err != nil {
		t.Fatal(err)
	}
	objs := object.Objects(res.Manifests)
	app, pinned, ns, widget := objs[0], objs[1], objs[2], objs[4]
	if got := app.Object["data"]; got.(map[string]any)["greeting"] != "hello world" ||
		got.(map[string]any)["port"] != "8080" || got.(map[string]any)["escaped"] != "${NAME}" || got.(map[string]any)["count"] != int64(3) {
		t.Errorf("substituted data = %v", got)
	}
	if pinned.Object["data"].(map[string]any)["raw"] != "${NAME}" {
		t.Errorf("substitution not disabled by annotation: %v", pinned.Object["data"])
	}
	for _, c := range []struct{ got, want string }{
		{app.GetNamespace(), "shop"}, {pinned.GetNamespace(), "elsewhere"}, {ns.GetNamespace(), ""}, {widget.GetNamespace(), "shop"},
		{app.GetLabels()["team"], "storefront"}, {ns.GetAnnotations()["owner"], "gitopskit"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestTransformErrors(t *testing.T) {
	res := decode(t, input)
	err := render.Transform{Vars: map[string]string{}, Strict: true}.Apply(res)
	if !errors.Is(err, render.ErrUnset) || !strings.Contains(err.Error(), "in.yaml:1: configmap/app: data.greeting") {
		t.Errorf("strict: error = %v", err)
	}
	unknown := decode(t, "apiVersion: example.org/v1\nkind: Gadget\nmetadata:\n  name: g\n")
	err = render.Transform{Namespace: "shop", Mapper: mapper()}.Apply(unknown)
	if !errors.Is(err, render.ErrUnknownKind) || !strings.Contains(err.Error(), "Gadget") {
		t.Errorf("unknown kind: error = %v", err)
	}
	if err := (render.Transform{Namespace: "shop", Mapper: mapper(), UnknownKinds: render.UnknownKindsNamespaced}).Apply(unknown); err != nil ||
		unknown.Manifests[0].Object.GetNamespace() != "shop" {
		t.Errorf("unknown kind treated as namespaced: %v, namespace %q", err, unknown.Manifests[0].Object.GetNamespace())
	}
	if err := (render.Transform{Namespace: "shop"}).Apply(unknown); err == nil {
		t.Error("namespace without a mapper: no error")
	}
}

// TestSubstituteLimit: substitution stops at Transform.MaxBytes, counted over all
// objects, with an error naming the object and the field where it stopped.
func TestSubstituteLimit(t *testing.T) {
	cm := func(name string, refs int) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  v: " + strings.Repeat("${V}", refs) + "\n---\n"
	}
	vars := map[string]string{"V": strings.Repeat("v", 100)}
	for _, tc := range []struct {
		name, yaml string
		want       string // "" for no error
	}{
		{name: "within", yaml: cm("a", 5) + cm("b", 4)},
		{name: "one object", yaml: cm("a", 11), want: "in.yaml:1: configmap/a: data.v: render limit exceeded: substitution writes more than 1000 bytes"},
		{name: "all objects", yaml: cm("a", 6) + cm("b", 6), want: "in.yaml:8: configmap/b: data.v: render limit exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := render.Transform{Vars: vars, MaxBytes: 1000}.Apply(decode(t, tc.yaml))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error = %v, want none", err)
			case tc.want != "" && (!errors.Is(err, render.ErrLimit) || !strings.Contains(fmt.Sprint(err), tc.want)):
				t.Fatalf("error = %v, want ErrLimit containing %q", err, tc.want)
			}
		})
	}
}
