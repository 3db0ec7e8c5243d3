package health_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// crdManifest declares a namespaced kind in health.gitopskit.io, with or without a
// status subresource.
func crdManifest(kind string, statusSubresource bool) string {
	plural := strings.ToLower(kind) + "s"
	sub := ""
	if statusSubresource {
		sub = "\n    subresources: {status: {}}"
	}
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ` + plural + `.health.gitopskit.io}
spec:
  group: health.gitopskit.io
  scope: Namespaced
  names: {plural: ` + plural + `, singular: ` + strings.ToLower(kind) + `, kind: ` + kind + `, listKind: ` + kind + `List}
  versions:
  - name: v1
    served: true
    storage: true` + sub + `
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`
}

// customResources applies the CRD of kind and returns a function that creates an
// object of it, with no status, once the API server serves the kind.
func (e *env) customResources(kind string, statusSubresource bool) func(name string) object.ID {
	t := e.t
	crd := e.apply(crdManifest(kind, statusSubresource))
	t.Cleanup(func() {
		_ = e.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			Delete(context.Background(), crd.Name, metav1.DeleteOptions{})
	})
	_, _, err := e.wait(health.WaitOptions{}, crd)
	require.NoError(t, err)
	gvr := schema.GroupVersionResource{Group: "health.gitopskit.io", Version: "v1", Resource: strings.ToLower(kind) + "s"}
	return func(name string) object.ID {
		var id object.ID
		// The kind's endpoint can lag Established by a moment.
		require.NoError(t, wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "health.gitopskit.io/v1", "kind": kind,
				"metadata": map[string]any{"name": name}, "spec": map[string]any{"size": int64(1)}}}
			out, err := e.dyn.Resource(gvr).Namespace(e.ns).Create(ctx, u, metav1.CreateOptions{})
			if err == nil {
				id = object.IDOf(out)
			}
			return err == nil, nil
		}))
		return id
	}
}

// freshWaiter replaces the env's waiter with one whose RESTMapper has not yet
// cached discovery, so that it finds kinds of CRDs created since.
func (e *env) freshWaiter(opts health.WaiterOptions) {
	w, err := health.NewWaiterForConfig(e.cfg, opts)
	require.NoError(e.t, err)
	e.waiter = w
}

// TestCustomResourceWaitsForItsFirstStatus: right after apply, a custom resource
// whose CRD has a status subresource has no status, and its controller has not acted
// yet: the wait goes on until a status appears. The Waiter learns of the status
// subresource from the CRD. A kind without a status subresource has no controller
// that writes one: its objects are Healthy once they exist.
func TestCustomResourceWaitsForItsFirstStatus(t *testing.T) {
	e := newEnv(t)
	newWidget := e.customResources("Widget", true)
	newSprocket := e.customResources("Sprocket", false)
	e.freshWaiter(health.WaiterOptions{}) // one that discovers the new kinds

	sprocket := newSprocket("s")
	res, _, err := e.wait(health.WaitOptions{}, sprocket)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[sprocket].Code)

	widget := newWidget("w")
	widgets := e.dyn.Resource(schema.GroupVersionResource{Group: "health.gitopskit.io", Version: "v1", Resource: "widgets"}).Namespace(e.ns)
	res, events, err := e.wait(health.WaitOptions{Progress: func(ev health.Event) {
		if ev.Status.Code != health.Progressing {
			return
		}
		// The controller acts: it writes the status.
		u, err := widgets.Get(e.ctx, "w", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Ready", "status": "True", "message": "serving"}}, "status", "conditions"))
		_, err = widgets.UpdateStatus(e.ctx, u, metav1.UpdateOptions{})
		require.NoError(t, err)
	}}, widget)
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Healthy, Message: "serving"}, res.Objects[widget])
	assert.True(t, saw(events, health.Progressing, "waiting for the controller of the Widget to write its status"), "%v", events)
}

// TestCustomResourceStatusGracePeriod: with a grace period, an object whose
// controller never writes a status stops holding up the wait once the period has
// passed since its creation, without any change to the object.
func TestCustomResourceStatusGracePeriod(t *testing.T) {
	e := newEnv(t)
	newWidget := e.customResources("Gizmo", true)
	assessor, err := health.NewAssessor(health.Options{StatusGracePeriod: 2 * time.Second})
	require.NoError(t, err)
	e.freshWaiter(health.WaiterOptions{Assessor: assessor})

	id := newWidget("quiet")
	res, events, err := e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[id].Code)
	assert.True(t, saw(events, health.Progressing, "to write its status (for up to 2s after creation)"), "%v", events)
	live := e.get(id, "health.gitopskit.io/v1")
	_, hasStatus := live.Object["status"]
	assert.False(t, hasStatus, "nothing wrote a status: the grace period ended the wait")
}

// TestStatusGracePeriodOutsideWait: Assess counts the grace period from the
// object's creationTimestamp; after it, the object's rules decide as if no status
// were expected.
func TestStatusGracePeriodOutsideWait(t *testing.T) {
	a, err := health.NewAssessor(health.Options{StatusGracePeriod: time.Minute})
	require.NoError(t, err)
	cert := func(created time.Time) *unstructured.Unstructured {
		return loadObject(t, []byte(`{apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: c, creationTimestamp: "`+
			created.UTC().Format(time.RFC3339)+`"}, spec: {secretName: c}}`))
	}
	assert.Equal(t, health.Status{Code: health.Progressing, Message: "waiting for the controller of the Certificate to write its status (for up to 1m0s after creation)"},
		a.Assess(cert(time.Now())))
	assert.Equal(t, health.Status{Code: health.Progressing, Message: "waiting for cert-manager to issue the certificate"},
		a.Assess(cert(time.Now().Add(-time.Hour))), "the library rule decides once the period is over")
	assert.Equal(t, health.Status{Code: health.Progressing, Message: "waiting for the controller of the Certificate to write its status"},
		health.Assess(cert(time.Now().Add(-time.Hour))), "no grace period: no bound")
}

// TestWaiterLearnsNewKinds: a Waiter made before a CRD existed finds the kind
// when asked for it, since its RESTMapper reads discovery again on a kind it
// does not know, instead of calling the objects Missing.
func TestWaiterLearnsNewKinds(t *testing.T) {
	e := newEnv(t)
	newDoohickey := e.customResources("Doohickey", false) // waits with e.waiter: discovery is cached before the kind exists
	id := newDoohickey("d")
	res, _, err := e.wait(health.WaitOptions{Timeout: 20 * time.Second}, id)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[id].Code)
}
