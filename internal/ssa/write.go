package ssa

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// FieldValidation is the API server's field validation of a write: Strict, as
// kubectl's, so that a field the schema does not know fails the write (as the
// diff's offline engine predicts), or Ignore when skip (Argo CD's Validate=false),
// which drops it.
func FieldValidation(skip bool) string {
	if skip {
		return metav1.FieldValidationIgnore
	}
	return metav1.FieldValidationStrict
}

// Apply sends a server-side apply of obj through res, a dry run when dryRun, with
// the field manager, Force and field validation of o.
func Apply(ctx context.Context, res dynamic.ResourceInterface, obj *unstructured.Unstructured, o Options, dryRun bool) (*unstructured.Unstructured, error) {
	data, err := runtime.Encode(unstructured.UnstructuredJSONScheme, obj)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	force := o.Force
	opts := metav1.PatchOptions{FieldManager: o.FieldManager, Force: &force, FieldValidation: FieldValidation(o.SkipValidation)}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return res.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts)
}

// Replace writes obj through res as `kubectl replace` does, a dry run when
// dryRun: an update of the whole object at live's resourceVersion (every field obj
// does not declare goes), or a create when live is nil. live is not modified.
func Replace(ctx context.Context, res dynamic.ResourceInterface, obj, live *unstructured.Unstructured, o Options, dryRun bool) (*unstructured.Unstructured, error) {
	var dry []string
	if dryRun {
		dry = []string{metav1.DryRunAll}
	}
	validation := FieldValidation(o.SkipValidation)
	if live == nil {
		return res.Create(ctx, obj, metav1.CreateOptions{DryRun: dry, FieldManager: o.FieldManager, FieldValidation: validation})
	}
	c := obj.DeepCopy()
	c.SetResourceVersion(live.GetResourceVersion())
	return res.Update(ctx, c, metav1.UpdateOptions{DryRun: dry, FieldManager: o.FieldManager, FieldValidation: validation})
}
