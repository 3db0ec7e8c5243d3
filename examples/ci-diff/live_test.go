package main

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/object"
)

// asNamed drops the namespace of cluster-scoped objects only: by the CRDs of the
// set first, then by the RESTMapper; a kind neither knows keeps it.
func TestAsNamed(t *testing.T) {
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "rbac.authorization.k8s.io", Version: "v1"}, {Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	ms, err := object.Decode(strings.NewReader(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: issuers.example.com}
spec: {group: example.com, scope: Cluster, names: {kind: Issuer, plural: issuers}}
---
apiVersion: example.com/v1
kind: Issuer
metadata: {name: ca, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: other.example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
`), "set.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs := object.Objects(ms)
	declared := objs[2]
	if err := asNamed(mapper, objs); err != nil {
		t.Fatal(err)
	}
	want := []string{"", "", "", "shop", "shop"}
	for i, u := range objs {
		if u.GetNamespace() != want[i] {
			t.Errorf("%s: namespace %q, want %q", object.IDOf(u), u.GetNamespace(), want[i])
		}
	}
	if declared.GetNamespace() != "shop" {
		t.Error("the declared object was modified, not copied")
	}
}
