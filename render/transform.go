package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/internal/scope"
	"github.com/gitopskit/gitopskit/object"
)

// SubstituteAnnotation set to "disabled" on an object turns variable substitution
// off for it, as in Flux.
const SubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute"

// UnknownKinds says what the default-namespace transform does with a kind the
// RESTMapper does not know and no CRD in the same result defines.
type UnknownKinds int

const (
	// UnknownKindsError fails the transform with an error wrapping [ErrUnknownKind].
	UnknownKindsError UnknownKinds = iota
	// UnknownKindsNamespaced treats unknown kinds as namespaced.
	UnknownKindsNamespaced
	// UnknownKindsSkip leaves objects of unknown kinds alone.
	UnknownKindsSkip
)

// Transform is the post-render transforms of a result, applied in this order:
// variable substitution, default namespace, common labels, common annotations.
// The zero value changes nothing.
type Transform struct {
	// Vars are the variables ${NAME} references take their values from. When nil,
	// nothing is substituted. Substitution happens in string values only (never in
	// keys), and not in objects annotated with [SubstituteAnnotation]: disabled.
	Vars map[string]string
	// Strict fails the substitution on a reference to an unset variable without a
	// default, instead of replacing it with "".
	Strict bool
	// MaxBytes bounds the text substitution writes in one Apply, all objects
	// together (default [DefaultMaxBytes]): the string values holding a '$', with
	// the variables' values in place. Apply fails with an error wrapping [ErrLimit]
	// as soon as it would write more, so variables that repeat a large value
	// cannot grow a result without bound.
	MaxBytes int64
	// Namespace is set on namespaced objects that have none. Cluster-scoped objects
	// are left alone. Requires Mapper.
	Namespace string
	// Mapper tells namespaced kinds from cluster-scoped ones. CRDs in the result
	// being transformed are consulted first, so their custom resources need not be
	// known to the mapper yet.
	Mapper meta.RESTMapper
	// UnknownKinds says what to do with a kind nobody knows (default: error).
	UnknownKinds UnknownKinds
	// Labels are set on every object, replacing labels with the same keys.
	Labels map[string]string
	// Annotations are set on every object, replacing annotations with the same keys.
	Annotations map[string]string
}

// Apply transforms the objects of res in place. On error, res may be partly
// transformed; the error names the object and where it came from.
func (t Transform) Apply(res *Result) error {
	var kinds *scope.Kinds
	if t.Namespace != "" {
		if t.Mapper == nil {
			return fmt.Errorf("default namespace %q: no RESTMapper", t.Namespace)
		}
		kinds = scope.New(t.Mapper, object.Objects(res.Manifests))
	}
	out := newBudget(Limits{MaxBytes: t.MaxBytes}.WithDefaults().MaxBytes)
	for _, m := range res.Manifests {
		if err := t.apply(m.Object, kinds, out); err != nil {
			return &object.Error{ID: object.IDOf(m.Object), Origin: m.Origin, Err: err}
		}
	}
	return nil
}

func (t Transform) apply(u *unstructured.Unstructured, kinds *scope.Kinds, out *budget) error {
	if t.Vars != nil && u.GetAnnotations()[SubstituteAnnotation] != "disabled" {
		obj, err := substituteValue(u.Object, t.Vars, t.Strict, out)
		if err != nil {
			return err
		}
		u.Object = obj.(map[string]any)
	}
	if t.Namespace != "" && u.GetNamespace() == "" {
		namespaced, err := t.namespaced(u.GroupVersionKind(), kinds)
		if err != nil {
			return err
		}
		if namespaced {
			u.SetNamespace(t.Namespace)
		}
	}
	if len(t.Labels) > 0 {
		u.SetLabels(merged(u.GetLabels(), t.Labels))
	}
	if len(t.Annotations) > 0 {
		u.SetAnnotations(merged(u.GetAnnotations(), t.Annotations))
	}
	return nil
}

// merged returns m with the entries of add, allocating m when nil.
func merged(m, add map[string]string) map[string]string {
	if m == nil {
		m = make(map[string]string, len(add))
	}
	maps.Copy(m, add)
	return m
}

func (t Transform) namespaced(gvk schema.GroupVersionKind, kinds *scope.Kinds) (bool, error) {
	namespaced, err := kinds.Namespaced(gvk.GroupKind(), gvk.Version)
	if err == nil {
		return namespaced, nil
	}
	if !meta.IsNoMatchError(err) {
		return false, fmt.Errorf("scope of %s: %w", gvk, err)
	}
	switch t.UnknownKinds {
	case UnknownKindsNamespaced:
		return true, nil
	case UnknownKindsSkip:
		return false, nil
	default:
		return false, fmt.Errorf("%w %s: %w", ErrUnknownKind, gvk, err)
	}
}

// substituteValue substitutes variables in the string values of v, a JSON-like
// tree, in place, returning the new v. What it writes is counted against out.
// Errors are a *fieldError.
func substituteValue(v any, vars map[string]string, strict bool, out *budget) (any, error) {
	switch v := v.(type) {
	case string:
		s, err := substitute(v, vars, strict, out)
		if err != nil {
			return nil, &fieldError{err: err}
		}
		return s, nil
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) { // sorted: the first error is deterministic
			n, err := substituteValue(v[k], vars, strict, out)
			if err != nil {
				return nil, err.(*fieldError).in("." + k)
			}
			v[k] = n
		}
		return v, nil
	case []any:
		for i, e := range v {
			n, err := substituteValue(e, vars, strict, out)
			if err != nil {
				return nil, err.(*fieldError).in("[" + strconv.Itoa(i) + "]")
			}
			v[i] = n
		}
		return v, nil
	default:
		return v, nil
	}
}

// fieldError is an error at a field path, built from the inside out.
type fieldError struct {
	rev []string // path segments, innermost first
	err error
}

func (e *fieldError) in(seg string) *fieldError {
	e.rev = append(e.rev, seg)
	return e
}

func (e *fieldError) Error() string {
	var b strings.Builder
	for i := len(e.rev) - 1; i >= 0; i-- {
		b.WriteString(e.rev[i])
	}
	return strings.TrimPrefix(b.String(), ".") + ": " + e.err.Error()
}

func (e *fieldError) Unwrap() error { return e.err }
