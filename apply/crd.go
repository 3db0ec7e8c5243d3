package apply

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
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
	var kinds []schema.GroupKind
	for _, it := range batch {
		if it.stage != StageCRDs {
			continue
		}
		var crd *unstructured.Unstructured
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			var err error
			crd, err = r.m.client.Resource(crdResource).Get(ctx, it.id.Name, metav1.GetOptions{})
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
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		kinds = append(kinds, schema.GroupKind{Group: group, Kind: kind})
	}
	// The API server serves a kind in discovery a moment after its CRD is
	// Established: wait until the RESTMapper finds each, reading discovery again
	// while it does not.
	reset := func() {
		if rs, ok := r.m.mapper.(resetter); ok {
			rs.Reset()
		}
	}
	if len(kinds) > 0 {
		reset()
	}
	for _, gk := range kinds {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
			_, err := r.m.mapper.RESTMapping(gk)
			if meta.IsNoMatchError(err) {
				reset()
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			return fmt.Errorf("wait for discovery to serve %s: %w", gk, err)
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
