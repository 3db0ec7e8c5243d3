// Package scope tells namespaced kinds from cluster-scoped ones, for the packages
// that compare the identities of declared objects with those of live ones: the API
// server drops the namespace of a cluster-scoped object (a ClusterRole in a file
// that sets one, a ClusterIssuer under a kustomization's `namespace:`), so a
// declared identity must drop it too before it is compared.
package scope

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/object"
)

// Kinds answers whether kinds are namespaced: from the CustomResourceDefinitions
// of a set first, whose kinds the cluster may not serve yet, then from a
// RESTMapper. It is safe for concurrent use when its RESTMapper is.
type Kinds struct {
	mapper meta.RESTMapper
	crds   map[schema.GroupKind]bool
}

// New returns the scopes of the kinds mapper knows and of those the
// CustomResourceDefinitions among objs define (nil objects are passed over).
func New(mapper meta.RESTMapper, objs []*unstructured.Unstructured) *Kinds {
	k := &Kinds{mapper: mapper, crds: map[schema.GroupKind]bool{}}
	for _, u := range objs {
		if u == nil {
			continue
		}
		gvk := u.GroupVersionKind()
		if gvk.Group != "apiextensions.k8s.io" || gvk.Kind != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		if kind != "" {
			k.crds[schema.GroupKind{Group: group, Kind: kind}] = scope != "Cluster"
		}
	}
	return k
}

// Defines reports whether a CustomResourceDefinition of the set defines kind gk.
func (k *Kinds) Defines(gk schema.GroupKind) bool {
	_, ok := k.crds[gk]
	return ok
}

// Namespaced reports whether objects of kind gk are namespaced. A kind that
// neither the set's CRDs nor the RESTMapper knows is an error for which
// meta.IsNoMatchError is true.
func (k *Kinds) Namespaced(gk schema.GroupKind, versions ...string) (bool, error) {
	if ns, ok := k.crds[gk]; ok {
		return ns, nil
	}
	mapping, err := k.mapper.RESTMapping(gk, versions...)
	if err != nil {
		return false, err
	}
	return mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// ID returns id as the API server names the object: without a namespace when its
// kind is cluster-scoped. An unknown kind keeps id as declared (applying it fails
// on its own); other RESTMapper failures are errors naming id.
func (k *Kinds) ID(id object.ID) (object.ID, error) {
	if id.Namespace == "" {
		return id, nil
	}
	ns, err := k.Namespaced(id.GroupKind())
	if meta.IsNoMatchError(err) {
		return id, nil
	}
	if err != nil {
		return id, fmt.Errorf("%s: scope of its kind: %w", id, err)
	}
	if !ns {
		id.Namespace = ""
	}
	return id, nil
}

// Object returns u as the API server would store its identity: u itself when it
// needs no change, otherwise a copy without the namespace of a cluster-scoped
// kind. u is not modified.
func (k *Kinds) Object(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	id := object.IDOf(u)
	scoped, err := k.ID(id)
	if err != nil || scoped == id {
		return u, err
	}
	c := u.DeepCopy()
	c.SetNamespace("")
	return c, nil
}
