package scope

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/object"
)

func mapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Version: "v1"}, {Group: "rbac.authorization.k8s.io", Version: "v1"}})
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	return m
}

func crd(group, kind, scope string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "x." + group},
		"spec":     map[string]any{"group": group, "scope": scope, "names": map[string]any{"kind": kind}},
	}}
}

func TestID(t *testing.T) {
	k := New(mapper(), []*unstructured.Unstructured{nil, crd("example.com", "Issuer", "Cluster"), crd("example.com", "Widget", "Namespaced")})
	for _, c := range []struct{ in, want object.ID }{
		{object.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Namespace: "shop", Name: "r"}, object.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "r"}},
		{object.ID{Kind: "ConfigMap", Namespace: "shop", Name: "c"}, object.ID{Kind: "ConfigMap", Namespace: "shop", Name: "c"}},
		{object.ID{Group: "example.com", Kind: "Issuer", Namespace: "shop", Name: "i"}, object.ID{Group: "example.com", Kind: "Issuer", Name: "i"}},
		{object.ID{Group: "example.com", Kind: "Widget", Namespace: "shop", Name: "w"}, object.ID{Group: "example.com", Kind: "Widget", Namespace: "shop", Name: "w"}},
		{object.ID{Group: "unknown.io", Kind: "Thing", Namespace: "shop", Name: "t"}, object.ID{Group: "unknown.io", Kind: "Thing", Namespace: "shop", Name: "t"}},
	} {
		got, err := k.ID(c.in)
		if err != nil || got != c.want {
			t.Errorf("ID(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	if _, err := k.Namespaced(schema.GroupKind{Group: "unknown.io", Kind: "Thing"}); !meta.IsNoMatchError(err) {
		t.Errorf("unknown kind: %v, want a no-match error", err)
	}
}

type failing struct{ meta.RESTMapper }

func (failing) RESTMapping(schema.GroupKind, ...string) (*meta.RESTMapping, error) {
	return nil, errors.New("discovery is down")
}

func TestIDMapperFailure(t *testing.T) {
	id := object.ID{Kind: "ConfigMap", Namespace: "shop", Name: "c"}
	if _, err := New(failing{}, nil).ID(id); err == nil {
		t.Fatal("a failing RESTMapper must fail, not guess the scope")
	}
}

func TestObjectCopies(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "r", "namespace": "shop"},
	}}
	out, err := New(mapper(), nil).Object(u)
	if err != nil || out.GetNamespace() != "" || u.GetNamespace() != "shop" {
		t.Fatalf("Object: %v, namespace %q, input's %q", err, out.GetNamespace(), u.GetNamespace())
	}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "shop"}}}
	if out, _ := New(mapper(), nil).Object(cm); out != cm {
		t.Error("an object that needs no change is returned as is")
	}
}

// FuzzID checks that ID only ever drops a namespace, and is idempotent.
func FuzzID(f *testing.F) {
	f.Add("rbac.authorization.k8s.io", "ClusterRole", "shop", "r")
	f.Add("", "ConfigMap", "shop", "c")
	f.Add("example.com", "Issuer", "", "i")
	k := New(mapper(), []*unstructured.Unstructured{crd("example.com", "Issuer", "Cluster")})
	f.Fuzz(func(t *testing.T, group, kind, namespace, name string) {
		in := object.ID{Group: group, Kind: kind, Namespace: namespace, Name: name}
		out, err := k.ID(in)
		if err != nil {
			t.Fatalf("ID(%s): %v", in, err)
		}
		if out.Group != in.Group || out.Kind != in.Kind || out.Name != in.Name || (out.Namespace != in.Namespace && out.Namespace != "") {
			t.Fatalf("ID(%s) = %s: only the namespace may go", in, out)
		}
		if again, _ := k.ID(out); again != out {
			t.Fatalf("ID is not idempotent: %s, then %s", out, again)
		}
	})
}
