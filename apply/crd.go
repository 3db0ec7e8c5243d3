package apply

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// resetter is implemented by RESTMappers that cache discovery, such as
// restmapper.DeferredDiscoveryRESTMapper.
type resetter interface{ Reset() }

// settleCRDs waits until the CustomResourceDefinitions of batch are Established and
// resets the RESTMapper, so the kinds they define can be applied next. A dry run
// has nothing to wait for.
func (r *run) settleCRDs(ctx context.Context, batch []item) error {
	if r.opts.DryRun {
		return nil
	}
	timeout := r.opts.CRDTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	found := false
	for _, it := range batch {
		if it.stage != StageCRDs {
			continue
		}
		found = true
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			crd, err := r.m.client.Resource(crdResource).Get(ctx, it.id.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return established(crd), nil
		})
		if err != nil {
			return fmt.Errorf("wait for %s to be established: %w", it.id.KubectlString(), err)
		}
	}
	if found {
		if rs, ok := r.m.mapper.(resetter); ok {
			rs.Reset()
		}
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
