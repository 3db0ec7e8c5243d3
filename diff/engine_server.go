package diff

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/object"
)

// Server is the [Engine] that asks the API server: a server-side apply with
// dry-run, so admission, defaulting, conversion and field ownership are exactly
// those of a real apply. It is the ground truth and costs one request per object.
// It is safe for concurrent use.
type Server struct {
	client dynamic.Interface
	mapper meta.RESTMapper
}

// NewServer returns a server-side engine that sends dry-run applies through client,
// finding resources with mapper.
func NewServer(client dynamic.Interface, mapper meta.RESTMapper) *Server {
	return &Server{client: client, mapper: mapper}
}

// Predict sends a dry-run server-side apply of req.Desired and returns the object
// the server would store. A conflict without Force is a [*ConflictError].
func (s *Server) Predict(ctx context.Context, req Request) (*Prediction, error) {
	d := req.Desired
	gvk := d.GroupVersionKind()
	mapping, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("find resource for %s: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = s.client.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = s.client.Resource(mapping.Resource).Namespace(d.GetNamespace())
	}
	obj := stripForApply(d)
	out, err := ri.Apply(ctx, d.GetName(), obj, metav1.ApplyOptions{
		DryRun:       []string{metav1.DryRunAll},
		FieldManager: req.FieldManager,
		Force:        req.Force,
	})
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, serverConflict(object.IDOf(d), err)
		}
		return nil, fmt.Errorf("dry-run apply: %w", err)
	}
	return &Prediction{Object: out}, nil
}

func serverConflict(id object.ID, err error) error {
	ce := &ConflictError{ID: id}
	if st, ok := err.(apierrors.APIStatus); ok && st.Status().Details != nil {
		for _, c := range st.Status().Details.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				ce.Conflicts = append(ce.Conflicts, fmt.Sprintf("%s (%s)", c.Field, c.Message))
			}
		}
	}
	if len(ce.Conflicts) == 0 {
		return fmt.Errorf("dry-run apply: %w", err)
	}
	sort.Strings(ce.Conflicts)
	return ce
}

// stripForApply returns a copy of desired without the fields an apply must not
// carry: status (reset by the server for most kinds) and server-populated metadata.
func stripForApply(desired *unstructured.Unstructured) *unstructured.Unstructured {
	obj := desired.DeepCopy()
	delete(obj.Object, "status")
	if md, ok := obj.Object["metadata"].(map[string]any); ok {
		for _, f := range serverMetadata {
			delete(md, f)
		}
	}
	return obj
}
