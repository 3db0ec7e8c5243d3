package apply_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var metav1GetOptions = metav1.GetOptions{}

const app = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS, labels: {app: web}}
data: {color: blue}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: NS}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        args: [--port, "8080"]
        ports: [{containerPort: 8080}]
        env: [{name: MODE, value: prod}]
        resources: {}
`

func TestApplyCreatesThenSkipsUnchanged(t *testing.T) {
	e := newEnv(t, apply.Options{})
	res := e.apply(e.objects(app), apply.ApplyOptions{})
	assert.Equal(t, map[string]apply.Action{"settings": apply.Created, "web": apply.Created}, actions(res))
	assert.Equal(t, 3, res.Count(apply.Created))
	before, err := e.get(deployments, "web")
	require.NoError(t, err)

	res = e.apply(e.objects(app), apply.ApplyOptions{})
	assert.Equal(t, 3, res.Count(apply.Unchanged), "%+v", res.Events)
	assert.False(t, res.Changed())
	after, err := e.get(deployments, "web")
	require.NoError(t, err)
	assert.Equal(t, before.GetResourceVersion(), after.GetResourceVersion())

	// A changed value and a removed field are both written.
	changed := e.objects(app)
	unstructured.SetNestedField(changed[0].Object, "green", "data", "color")
	unstructured.RemoveNestedField(changed[2].Object, "spec", "replicas")
	res = e.apply(changed, apply.ApplyOptions{})
	assert.Equal(t, 2, res.Count(apply.Configured), "%+v", res.Events)
	cm, err := e.get(configMaps, "settings")
	require.NoError(t, err)
	assert.Equal(t, "green", cm.Object["data"].(map[string]any)["color"])
}

func TestApplyCRDAndCustomResourcesInOneSet(t *testing.T) {
	e := newEnv(t, apply.Options{})
	group := e.ns + ".example.com"
	objs := e.objects(`
apiVersion: example.com/v1
kind: Widget
metadata: {name: gear, namespace: NS}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.GROUP}
spec:
  group: GROUP
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`)
	objs[0].SetAPIVersion(group + "/v1")
	objs[1].SetName("widgets." + group)
	unstructured.SetNestedField(objs[1].Object, group, "spec", "group")
	t.Cleanup(func() {
		_ = e.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			Delete(context.Background(), "widgets."+group, metav1.DeleteOptions{})
	})

	res := e.apply(objs, apply.ApplyOptions{})
	require.Len(t, res.Events, 2)
	assert.Equal(t, apply.StageCRDs, res.Events[0].Stage)
	assert.Equal(t, apply.Created, res.Events[1].Action)
	w, err := e.dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}).Namespace(e.ns).
		Get(context.Background(), "gear", metav1.GetOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 3, w.Object["spec"].(map[string]any)["size"])

	res = e.apply(objs, apply.ApplyOptions{})
	assert.Equal(t, 2, res.Count(apply.Unchanged), "%+v", res.Events)
}

func TestApplyWavesAndDependencies(t *testing.T) {
	e := newEnv(t, apply.Options{})
	objs := e.objects(`
apiVersion: v1
kind: ConfigMap
metadata: {name: last, namespace: NS, annotations: {gitopskit.io/wave: "5"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: first, namespace: NS, annotations: {argocd.argoproj.io/sync-wave: "-2"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: after-last, namespace: NS, annotations: {gitopskit.io/depends-on: /ConfigMap/NS/last}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: middle, namespace: NS}
`)
	var gates [][]string
	gate := func(_ context.Context, ids []object.ID) error {
		gates = append(gates, names(ids))
		return nil
	}
	var mu sync.Mutex
	var seen []string
	res := e.apply(objs, apply.ApplyOptions{WaveGate: gate, OnEvent: func(ev apply.Event) {
		mu.Lock()
		seen = append(seen, ev.ID.Name)
		mu.Unlock()
	}})
	assert.Equal(t, []string{"first", "middle", "last", "after-last"}, seen)
	assert.Equal(t, [][]string{{"first"}, {"middle"}, {"last"}}, gates, "the gate runs between batches")
	assert.Equal(t, 4, res.Count(apply.Created))

	// A failing gate stops before the next batch.
	stop := errors.New("not healthy")
	_, err := e.m.Apply(context.Background(), objs, apply.ApplyOptions{WaveGate: func(context.Context, []object.ID) error { return stop }})
	assert.ErrorIs(t, err, stop)
}

func TestApplyRejectsDependencyCycle(t *testing.T) {
	e := newEnv(t, apply.Options{})
	objs := e.objects(`
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: NS, annotations: {gitopskit.io/depends-on: /ConfigMap/NS/b}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: NS, annotations: {config.kubernetes.io/depends-on: /namespaces/NS/ConfigMap/a}}
`)
	_, err := e.m.Apply(context.Background(), objs, apply.ApplyOptions{})
	var cycle *apply.CycleError
	require.ErrorAs(t, err, &cycle)
	assert.Equal(t, []string{"a", "b", "a"}, []string{cycle.Cycle[0].Name, cycle.Cycle[1].Name, cycle.Cycle[2].Name})
	assert.Contains(t, err.Error(), "configmap/a -n "+e.ns+" -> configmap/b -n "+e.ns+" -> configmap/a -n "+e.ns)
	_, err = e.get(configMaps, "a")
	assert.True(t, apierrors.IsNotFound(err), "nothing is applied: %v", err)
}

func TestApplyConflictWithAnotherManager(t *testing.T) {
	e := newEnv(t, apply.Options{})
	other := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: NS}\ndata: {owner: other}\n")[0]
	_, err := e.dyn.Resource(configMaps).Namespace(e.ns).Apply(context.Background(), "shared", other, metav1.ApplyOptions{FieldManager: "other-tool"})
	require.NoError(t, err)

	ours := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: NS}\ndata: {owner: us}\n")
	res, err := e.m.Apply(context.Background(), ours, apply.ApplyOptions{})
	var conflict *apply.ConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, []string{"other-tool"}, conflict.Managers())
	assert.Equal(t, []apply.Conflict{{Field: ".data.owner", Manager: "other-tool"}}, conflict.Conflicts)
	assert.Contains(t, err.Error(), "other-tool")
	assert.Equal(t, apply.Failed, res.Events[0].Action)

	res = e.apply(ours, apply.ApplyOptions{Force: true})
	assert.Equal(t, apply.Configured, res.Events[0].Action)
	cm, err := e.get(configMaps, "shared")
	require.NoError(t, err)
	assert.Equal(t, "us", cm.Object["data"].(map[string]any)["owner"])
}

func TestApplyImmutableFields(t *testing.T) {
	e := newEnv(t, apply.Options{})
	const job = `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: NS}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: IMAGE}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: NS}
spec:
  clusterIP: CLUSTERIP
  ports: [{port: 5432}]
`
	objsWith := func(image, clusterIP string) []*unstructured.Unstructured {
		objs := e.objects(job)
		unstructured.SetNestedSlice(objs[0].Object, []any{map[string]any{"name": "migrate", "image": image}}, "spec", "template", "spec", "containers")
		if clusterIP == "" {
			unstructured.RemoveNestedField(objs[1].Object, "spec", "clusterIP")
		} else {
			unstructured.SetNestedField(objs[1].Object, clusterIP, "spec", "clusterIP")
		}
		return objs
	}
	e.apply(objsWith("busybox:1", ""), apply.ApplyOptions{})
	before, err := e.get(jobs, "migrate")
	require.NoError(t, err)

	// The Service (namespaced config) fails first; the Job's batch is then skipped.
	res, err := e.m.Apply(context.Background(), objsWith("busybox:2", "None"), apply.ApplyOptions{})
	var immutable *apply.ImmutableError
	require.ErrorAs(t, err, &immutable)
	assert.Equal(t, "Service", immutable.ID.Kind)
	assert.Equal(t, []string{"spec.clusterIPs[0]"}, immutable.Fields)
	assert.Equal(t, apply.Skipped, actions(res)["migrate"])

	_, err = e.m.Apply(context.Background(), objsWith("busybox:2", "")[:1], apply.ApplyOptions{})
	require.ErrorAs(t, err, &immutable)
	assert.Equal(t, "Job", immutable.ID.Kind)
	assert.Equal(t, []string{"spec.template"}, immutable.Fields)
	assert.Contains(t, err.Error(), "spec.template")

	res = e.apply(objsWith("busybox:2", "None"), apply.ApplyOptions{Recreate: true})
	assert.Equal(t, 2, res.Count(apply.Recreated), "%+v", res.Events)
	after, err := e.get(jobs, "migrate")
	require.NoError(t, err)
	assert.NotEqual(t, before.GetUID(), after.GetUID())
	svc, err := e.get(services, "db")
	require.NoError(t, err)
	assert.Equal(t, "None", svc.Object["spec"].(map[string]any)["clusterIP"])
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	e := newEnv(t, apply.Options{})
	newNS := e.ns + "-dry"
	objs := e.objects(app + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: NS-dry}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: NS-dry}\n")
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	res := e.apply(objs, apply.ApplyOptions{DryRun: true, Inventory: inv, Prune: true})
	assert.Equal(t, 4, res.Count(apply.Created), "%+v", res.Events)
	assert.Equal(t, 1, res.Count(apply.Skipped), "the object in the namespace the set creates: %+v", res.Events)
	for _, ev := range res.Events {
		assert.True(t, ev.DryRun)
	}
	for _, gvr := range []schema.GroupVersionResource{configMaps, services, deployments} {
		l, err := e.dyn.Resource(gvr).Namespace(e.ns).List(context.Background(), metav1.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, l.Items, gvr.Resource)
	}
	_, err := e.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Get(context.Background(), newNS, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "%v", err)
	_, err = e.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace(e.ns).Get(context.Background(), "inventory", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "no inventory is written: %v", err)

	// A dry run against existing objects reports changes without making them.
	e.apply(e.objects(app), apply.ApplyOptions{})
	changed := e.objects(app)
	unstructured.SetNestedField(changed[0].Object, "red", "data", "color")
	res = e.apply(changed, apply.ApplyOptions{DryRun: true})
	assert.Equal(t, apply.Configured, actions(res)["settings"])
	cm, err := e.get(configMaps, "settings")
	require.NoError(t, err)
	assert.Equal(t, "blue", cm.Object["data"].(map[string]any)["color"])
}
