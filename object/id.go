package object

import (
	"cmp"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ID identifies an object in a cluster: its API group, kind, namespace and name.
// The API version is not part of the identity: apps/v1 and apps/v1beta1 Deployments
// of the same name are the same object. Namespace is empty for cluster-scoped kinds.
type ID struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// IDOf returns the identity of obj.
func IDOf(obj *unstructured.Unstructured) ID {
	gvk := obj.GroupVersionKind()
	return ID{Group: gvk.Group, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// IDs returns the identity of each of objs, in order.
func IDs(objs []*unstructured.Unstructured) []ID {
	ids := make([]ID, len(objs))
	for i, u := range objs {
		ids[i] = IDOf(u)
	}
	return ids
}

// GroupKind returns the group and kind of id.
func (id ID) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: id.Group, Kind: id.Kind}
}

// String prints id as "group/Kind/namespace/name", keeping empty fields so that the
// form can be parsed back by [ParseID].
func (id ID) String() string {
	return id.Group + "/" + id.Kind + "/" + id.Namespace + "/" + id.Name
}

// KubectlString prints id for people as kubectl names objects: the kind in lower
// case, dotted with its group, a slash, the name, and " -n <namespace>" for a
// namespaced object ("deployment.apps/web -n shop", "namespace/guestbook"), the
// first part being what `kubectl get -o name` prints. It cannot be parsed back;
// [ID.String] can.
func (id ID) KubectlString() string {
	s := strings.ToLower(id.Kind)
	if id.Group != "" {
		s += "." + id.Group
	}
	s += "/" + id.Name
	if id.Namespace != "" {
		s += " -n " + id.Namespace
	}
	return s
}

// ParseID parses the "group/Kind/namespace/name" form that [ID.String] prints. Group
// and namespace may be empty; kind and name may not.
func ParseID(s string) (ID, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return ID{}, fmt.Errorf("object ID %q: want group/Kind/namespace/name", s)
	}
	id := ID{Group: parts[0], Kind: parts[1], Namespace: parts[2], Name: parts[3]}
	if id.Kind == "" || id.Name == "" {
		return ID{}, fmt.Errorf("object ID %q: kind and name must not be empty", s)
	}
	return id, nil
}

// Compare orders IDs by group, kind, namespace and name. It returns -1, 0 or +1.
func Compare(a, b ID) int {
	if c := cmp.Compare(a.Group, b.Group); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}
