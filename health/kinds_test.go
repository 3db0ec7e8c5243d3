package health_test

import (
	"context"
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

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.health.gitopskit.io}
spec:
  group: health.gitopskit.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// TestCustomResourceWithCELRule: a CRD becomes Established, and a CEL rule reads a
// custom resource's conditions as its controller would write them.
func TestCustomResourceWithCELRule(t *testing.T) {
	e := newEnv(t)
	crd := e.apply(widgetCRD)
	t.Cleanup(func() {
		_ = e.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			Delete(t.Context(), crd.Name, metav1.DeleteOptions{})
	})
	res, _, err := e.wait(health.WaitOptions{}, crd)
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Healthy, Message: "established"}, res.Objects[crd])
	recordObject(t, "crd-established", e.get(crd, "apiextensions.k8s.io/v1"))

	assessor, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{
		Name: "gadget-online", Group: "health.gitopskit.io", Kind: "Gadget",
		Expression: `!has(object.status) || !has(object.status.conditions) ? {"code": "Progressing", "message": "no status yet"} :
			object.status.conditions.exists(c, c.type == "Online" && c.status == "True") ? {"code": "Healthy", "message": "online"} :
			object.status.conditions.exists(c, c.type == "Broken" && c.status == "True") ? {"code": "Degraded", "message": object.status.conditions.filter(c, c.type == "Broken")[0].message} :
			{"code": "Progressing", "message": "waiting to come online"}`,
	}}})
	require.NoError(t, err)
	waiter, err := health.NewWaiterForConfig(e.cfg, health.WaiterOptions{Assessor: assessor})
	require.NoError(t, err)

	gadgets := schema.GroupVersionResource{Group: "health.gitopskit.io", Version: "v1", Resource: "gadgets"}
	var id object.ID
	// The CRD's endpoint can lag Established by a moment.
	require.NoError(t, wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "health.gitopskit.io/v1", "kind": "Gadget", "metadata": map[string]any{"name": "g"}}}
		out, err := e.dyn.Resource(gadgets).Namespace(e.ns).Apply(ctx, "g", u, metav1.ApplyOptions{FieldManager: "health-test"})
		if err == nil {
			id = object.IDOf(out)
		}
		return err == nil, nil
	}))

	setCondition := func(typ, msg string) {
		u, err := e.dyn.Resource(gadgets).Namespace(e.ns).Get(e.ctx, "g", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": typ, "status": "True", "message": msg}}, "status", "conditions"))
		_, err = e.dyn.Resource(gadgets).Namespace(e.ns).UpdateStatus(e.ctx, u, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	done := make(chan struct{})
	var events []health.Event
	var result health.Result
	var waitErr error
	go func() {
		defer close(done)
		result, waitErr = waiter.Wait(e.ctx, []object.ID{id}, health.WaitOptions{Timeout: time.Minute, Progress: func(ev health.Event) {
			events = append(events, ev)
			if ev.Status.Message == "no status yet" {
				setCondition("Starting", "")
			}
			if ev.Status.Message == "waiting to come online" {
				setCondition("Online", "")
			}
		}})
	}()
	<-done
	require.NoError(t, waitErr)
	assert.Equal(t, health.Status{Code: health.Healthy, Message: "online"}, result.Objects[id])
	require.Len(t, events, 3, "%v", events)
	assert.Equal(t, "no status yet", events[0].Status.Message)
	assert.Equal(t, "waiting to come online", events[1].Status.Message)

	setCondition("Broken", "the flux capacitor is gone")
	result, err = waiter.Wait(e.ctx, []object.ID{id}, health.WaitOptions{FailFast: true, Timeout: time.Minute})
	require.ErrorIs(t, err, health.ErrDegraded)
	assert.Equal(t, health.Status{Code: health.Degraded, Message: "the flux capacitor is gone"}, result.Objects[id])
}
