package health

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/internal/logging"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// statusHint tells whether the CRD of a watched resource type declares a status
// subresource for the watched version: then its controller writes the status, and
// an object without one has not been seen by it yet. It reads the CRD once per
// group, version and kind for the Waiter's life, and only for kinds that may be
// custom resources and that no library rule already knows. A CRD it may not read
// (RBAC) or that does not exist (an aggregated API) gives no hint.
func (w *Waiter) statusHint(ctx context.Context, mapping *meta.RESTMapping) statusHint {
	gvk := mapping.GroupVersionKind
	if !strings.Contains(gvk.Group, ".") || builtin(gvk.Group, gvk.Kind) != nil {
		return hintNone // a CRD's group has a dot; built-in kinds have their own rules
	}
	if lib := w.assessor.library(); lib != nil {
		if lr := lib.lookup(gvk.Group, gvk.Kind); lr != nil && lr.status != "" {
			return hintNone // the library rule knows
		}
	}
	w.mu.Lock()
	h, ok := w.hints[gvk]
	w.mu.Unlock()
	if ok {
		return h
	}
	crd, err := w.client.Resource(crdResource).Get(ctx, mapping.Resource.Resource+"."+gvk.Group, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		h = hintNoStatusSubresource
	case err != nil:
		logging.From(ctx, w.log).V(1).Info("cannot read the CRD of a resource type; objects without status are assessed as if it had no status subresource",
			"kind", gvk.String(), "error", err.Error())
		return hintNone // not cached: a transient error should not stick
	default:
		h = hintNoStatusSubresource
		for _, v := range list(field(crd.Object, "spec"), "versions") {
			vm, _ := v.(map[string]any)
			if str(vm, "name") == gvk.Version {
				if _, has := field(vm, "subresources")["status"]; has {
					h = hintStatusSubresource
				}
			}
		}
	}
	w.mu.Lock()
	w.hints[gvk] = h
	w.mu.Unlock()
	return h
}
