// Package applytest holds the apply scenarios that the apply package's tests run
// and the diff package's tests predict, so that both test the same cases: what a
// diff plans must be what an apply does. It is for tests only.
package applytest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
)

// FieldManager is the field manager the scenarios apply with: apply's default.
const FieldManager = "gitopskit"

// The outcomes of a [Scenario]'s apply that are failures; the others are the
// names of apply's actions ("created", "configured", "unchanged", "recreated",
// "skipped").
const (
	// Conflict: the apply fails with a conflict with another field manager.
	Conflict = "conflict"
	// Immutable: the apply fails because an immutable field changes.
	Immutable = "immutable"
	// Invalid: the apply fails because the object has a field its schema does
	// not know.
	Invalid = "invalid"
)

// Scenario is one apply: a starting state, the set applied and what the apply does.
type Scenario struct {
	Name string
	// Before brings a fresh namespace into the starting state, step by step.
	Before []Step
	// Desired is the set applied, as YAML; NS stands for the test's namespace, OWN
	// for a namespace that the set creates.
	Desired string
	// Force and Recreate are the apply's options.
	Force, Recreate bool
	// Want is what the apply reports for each object, by "Kind/name".
	Want map[string]string
	// DryRun is what a dry-run apply reports, where it differs from Want.
	DryRun map[string]string
	// Changed lists, sorted and in the diff package's form, the fields the apply
	// changes in the objects it configures or recreates, by "Kind/name".
	Changed map[string][]string
	// Foreign lists, sorted and in the diff package's form, the fields that other
	// field managers own before the apply and that the apply leaves to them.
	Foreign map[string][]string
	// Offline is, for objects whose immutable fields change, the paths that the
	// offline engine predicts for an update instead: it cannot know that the field
	// is immutable, nor what a recreated object gets from the server.
	Offline map[string][]string
	// Check, when set, checks the objects after the apply, by "Kind/name".
	Check func(t testing.TB, after map[string]*unstructured.Unstructured)
}

// How is the way a [Step] writes.
type How int

const (
	// Apply is a forced server-side apply.
	Apply How = iota
	// ClientSideApply is what `kubectl apply` without --server-side leaves: a
	// create with the last-applied annotation, as an Update by the manager.
	ClientSideApply
)

// Step is one write of the starting state.
type Step struct {
	How     How
	Manager string
	// Objects is YAML; NS stands for the test's namespace.
	Objects string
}

// Env is where a scenario runs: a cluster's clients and a namespace of its own.
type Env struct {
	Dynamic   dynamic.Interface
	Mapper    meta.RESTMapper
	Namespace string
}

// Decode decodes manifests after replacing NS with the namespace and OWN with the
// name of a namespace that the set creates.
func (e Env) Decode(t testing.TB, manifests string) []object.Manifest {
	t.Helper()
	r := strings.NewReplacer("NS", e.Namespace, "OWN", e.own())
	ms, err := object.Decode(strings.NewReader(r.Replace(manifests)), "desired.yaml")
	require.NoError(t, err)
	return ms
}

// own is the name of a namespace that a scenario's set creates: the test
// namespace's random suffix after "own-", so it is unique and short.
func (e Env) own() string { return "own-" + e.Namespace[max(0, len(e.Namespace)-6):] }

// Resource returns the client of u's resource.
func (e Env) Resource(t testing.TB, u *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := u.GroupVersionKind()
	m, err := e.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	require.NoError(t, err)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return e.Dynamic.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	return e.Dynamic.Resource(m.Resource)
}

// Prepare writes the scenario's starting state and registers the deletion of the
// namespaces its set creates.
func (s Scenario) Prepare(t testing.TB, e Env) {
	t.Helper()
	ctx := context.Background()
	for _, u := range object.Objects(e.Decode(t, s.Desired)) {
		if u.GetKind() == "Namespace" {
			res, name := e.Resource(t, u), u.GetName()
			t.Cleanup(func() { _ = res.Delete(context.Background(), name, metav1.DeleteOptions{}) })
		}
	}
	for _, st := range s.Before {
		for _, u := range object.Objects(e.Decode(t, st.Objects)) {
			var err error
			switch st.How {
			case Apply:
				_, err = e.Resource(t, u).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: st.Manager, Force: true})
			case ClientSideApply:
				last, merr := u.MarshalJSON()
				require.NoError(t, merr)
				ann := u.GetAnnotations()
				if ann == nil {
					ann = map[string]string{}
				}
				ann["kubectl.kubernetes.io/last-applied-configuration"] = string(last)
				u.SetAnnotations(ann)
				_, err = e.Resource(t, u).Create(ctx, u, metav1.CreateOptions{FieldManager: st.Manager})
			}
			require.NoError(t, err, "%s %s", st.Manager, object.IDOf(u))
		}
	}
}

// Live reads the live copies of objs that exist, by "Kind/name".
func (e Env) Live(t testing.TB, objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		l, err := e.Resource(t, u).Get(context.Background(), u.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		require.NoError(t, err)
		out[e.Key(object.IDOf(u))] = l
	}
	return out
}

// Key is an object's key in a scenario: "Kind/name", with NS and OWN in the name
// as in the scenario.
func (e Env) Key(id object.ID) string {
	return id.Kind + "/" + strings.NewReplacer(e.Namespace, "NS", e.own(), "OWN").Replace(id.Name)
}

// Outcome returns what a scenario's apply is to report for the object key, in a
// dry run or not.
func (s Scenario) Outcome(key string, dryRun bool) string {
	if w, ok := s.DryRun[key]; ok && dryRun {
		return w
	}
	return s.Want[key]
}

// Applied names what an apply reported for one object as the scenarios do: the
// action, or the kind of failure.
func Applied(ev apply.Event) string {
	var conflict *apply.ConflictError
	var immutable *apply.ImmutableError
	switch {
	case errors.As(ev.Err, &conflict):
		return Conflict
	case errors.As(ev.Err, &immutable):
		return Immutable
	case IsUnknownField(ev.Err):
		return Invalid
	}
	return string(ev.Action)
}

// IsUnknownField reports whether err says that an object has a field its schema
// does not know: the API server's strict field validation, or the offline
// engine's typing.
func IsUnknownField(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "unknown field") || strings.Contains(err.Error(), "field not declared in schema"))
}
