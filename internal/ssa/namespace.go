package ssa

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/object"
)

// ErrNoNamespace is wrapped by the error of an object of a namespaced kind that
// has no namespace: the API server would refuse it (or, through a client, answer
// that it cannot find the resource).
var ErrNoNamespace = errors.New("namespaced kind without a namespace")

// ErrNamespaceNotFound is wrapped by the error of an object whose namespace does
// not exist.
var ErrNamespaceNotFound = errors.New("namespace not found")

// namespaces is the resource of Namespace objects.
var namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// Resource returns the client of obj's resource, in obj's namespace when mapping
// is namespaced. A namespaced object without a namespace is an error wrapping
// [ErrNoNamespace].
func Resource(client dynamic.Interface, mapping *meta.RESTMapping, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return client.Resource(mapping.Resource), nil
	}
	if obj.GetNamespace() == "" {
		return nil, ErrNoNamespace
	}
	return client.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
}

// NamespaceNotFound returns the error of an object whose namespace ns does not
// exist; it matches [ErrNamespaceNotFound].
func NamespaceNotFound(ns string) error { return &namespaceNotFound{ns} }

type namespaceNotFound struct{ ns string }

func (e *namespaceNotFound) Error() string        { return fmt.Sprintf("namespace %q does not exist", e.ns) }
func (e *namespaceNotFound) Is(target error) bool { return target == ErrNamespaceNotFound }

// IsNamespaceNotFound reports whether err says that namespace ns does not exist:
// the API server's NotFound for it, or an error wrapping [ErrNamespaceNotFound].
func IsNamespaceNotFound(err error, ns string) bool {
	if errors.Is(err, ErrNamespaceNotFound) {
		return true
	}
	var status apierrors.APIStatus
	if ns == "" || !apierrors.IsNotFound(err) || !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == namespaces.Resource && d.Name == ns
}

// NamespacePending reports whether err failed an object of namespace ns only
// because ns does not exist yet while set creates it: the case of a dry run of a
// set that brings its own namespace.
func NamespacePending(err error, ns string, set object.Set) bool {
	return ns != "" && set.Has(object.ID{Kind: "Namespace", Name: ns}) && IsNamespaceNotFound(err, ns)
}

// CheckNamespace checks, as the API server would on an apply of obj, that a
// namespaced obj has a namespace ([ErrNoNamespace]) and, when client is not nil,
// that it exists ([ErrNamespaceNotFound]), reading it through client. It checks
// nothing for a kind mapper does not know, and makes no request for a
// cluster-scoped kind.
func CheckNamespace(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		return nil // a kind the set's own CRD brings: its scope is not known yet
	}
	if err != nil {
		return fmt.Errorf("find resource for %s: %w", gvk, err)
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return nil
	}
	ns := obj.GetNamespace()
	if ns == "" {
		return ErrNoNamespace
	}
	if client == nil {
		return nil
	}
	_, err = client.Resource(namespaces).Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return NamespaceNotFound(ns)
	case apierrors.IsForbidden(err):
		return nil // a tenant may not read namespaces: the apply will tell
	case err != nil:
		return fmt.Errorf("read namespace %q: %w", ns, err)
	}
	return nil
}
