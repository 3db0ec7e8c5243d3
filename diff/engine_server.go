package diff

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
)

// Server is the [Engine] that asks the API server: a server-side apply with
// dry-run, so admission, defaulting, conversion and field ownership are exactly
// those of a real apply. It is the ground truth and costs one request per object
// (two for an object whose client-side apply fields the apply migrates first; see
// [Options.CSAManagers]). It is safe for concurrent use.
type Server struct {
	client dynamic.Interface
	mapper meta.RESTMapper
}

// NewServer returns a server-side engine that sends dry-run applies through client,
// finding resources with mapper.
func NewServer(client dynamic.Interface, mapper meta.RESTMapper) *Server {
	return &Server{client: client, mapper: mapper}
}

// Predict sends a dry-run server-side apply of req.Desired (a dry-run update or
// create with req.Replace) and returns the object the server would store, after
// the migration of client-side apply fields the apply does first. A conflict without Force is a [*apply.ConflictError]. When an
// immutable field changes and req.Recreate allows it, the prediction is the object
// created anew (a dry-run create under a generated name), with a warning.
func (s *Server) Predict(ctx context.Context, req Request) (*Prediction, error) {
	d := req.Desired
	gvk := d.GroupVersionKind()
	mapping, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("find resource for %s: %w", gvk, err)
	}
	res, err := ssa.Resource(s.client, mapping, d)
	if err != nil {
		return nil, err
	}
	obj := stripForApply(d)
	o := ssa.Options{FieldManager: req.FieldManager, Force: req.Force, CSA: ssa.CSASet(req.CSAManagers), SkipValidation: req.SkipValidation}
	var out *unstructured.Unstructured
	if req.Replace {
		out, err = ssa.Replace(ctx, res, obj, req.Live, o, true)
	} else {
		out, err = ssa.DryRun(ctx, res, obj, o)
	}
	switch {
	case err == nil:
		return &Prediction{Object: out}, nil
	case apierrors.IsConflict(err):
		return nil, serverConflict(object.IDOf(d), err)
	case ssa.IsNamespaceNotFound(err, d.GetNamespace()):
		return nil, ssa.NamespaceNotFound(d.GetNamespace())
	}
	if fields := ssa.ImmutableFields(err); len(fields) > 0 && req.Recreate {
		return recreated(ctx, res, obj, req.FieldManager, fields)
	}
	return nil, fmt.Errorf("dry-run apply: %w", err)
}

// recreated predicts the object an apply creates after deleting obj: a dry-run
// create under a name the server generates (obj's own is taken), with obj's name
// put back where the server copied it (a Job's job-name labels). What the server
// derives from the new object's uid differs, as it will after the real recreate.
func recreated(ctx context.Context, res dynamic.ResourceInterface, obj *unstructured.Unstructured, manager string, fields []string) (*Prediction, error) {
	c := obj.DeepCopy()
	name := c.GetName()
	c.SetName("")
	c.SetGenerateName(name + "-")
	out, err := res.Create(ctx, c, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: manager})
	if err != nil {
		return nil, fmt.Errorf("dry-run create to recreate it: %w", err)
	}
	out.Object = renamed(out.Object, out.GetName(), name).(map[string]any)
	unstructured.RemoveNestedField(out.Object, "metadata", "generateName")
	return &Prediction{Object: out, Recreate: true, Warnings: []string{
		fmt.Sprintf("an apply recreates it: immutable field(s) %s changed", strings.Join(fields, ", ")),
	}}, nil
}

// renamed replaces every string value from in v by to.
func renamed(v any, from, to string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = renamed(e, from, to)
		}
	case []any:
		for i, e := range t {
			t[i] = renamed(e, from, to)
		}
	case string:
		if t == from {
			return to
		}
	}
	return v
}

func serverConflict(id object.ID, err error) error {
	var conflicts []apply.Conflict
	if st, ok := err.(apierrors.APIStatus); ok && st.Status().Details != nil {
		for _, c := range st.Status().Details.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				conflicts = append(conflicts, apply.Conflict{Field: c.Field, Manager: ssa.ConflictManager(c)})
			}
		}
	}
	if len(conflicts) == 0 {
		return fmt.Errorf("dry-run apply: %w", err)
	}
	return apply.NewConflictError(id, conflicts, err)
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
