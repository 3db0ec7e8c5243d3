package diff_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// Quantities written as YAML numbers are stored as canonical strings: applying
// the same manifest again changes nothing.
func TestQuantitiesAsNumbers(t *testing.T) {
	e := newEnv(t)
	d := mustObject(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: numbers}
spec:
  selector: {matchLabels: {app: numbers}}
  template:
    metadata: {labels: {app: numbers}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        resources:
          requests: {cpu: 0.5, memory: 1e3}
          limits: {cpu: 1, memory: 1Gi}
        env:
        - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1}}}
      volumes:
      - {name: scratch, emptyDir: {sizeLimit: 0.5Gi}}
`)
	q := mustObject(`{apiVersion: v1, kind: ResourceQuota, metadata: {name: numbers}, spec: {hard: {pods: 10, requests.cpu: 1.5}}}`)
	h := mustObject(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: numbers}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: numbers}
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 5e8}}}]
`)
	objs := []*unstructured.Unstructured{d, q, h}
	for _, u := range objs {
		u.SetNamespace(e.ns)
	}
	e.apply(objs...)
	p := both(t, e, diff.Options{}, diff.Input{Desired: objs, Live: e.live(objs...)})
	assert.Equal(t, diff.Counts{None: 3}, p.Counts)
}

// A cluster-scoped object whose manifest sets a namespace: the server drops it,
// and so do kubectl and the offline engine.
func TestClusterScopedWithNamespace(t *testing.T) {
	e := newEnv(t)
	cr := mustObject(`{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {labels: {a: b}}, rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]}`)
	cr.SetName(e.ns + "-reader")
	e.apply(cr)
	t.Cleanup(func() { _ = e.resource(cr).Delete(e.ctx, cr.GetName(), metav1.DeleteOptions{}) })
	live := e.live(cr)
	desired := cr.DeepCopy()
	desired.SetNamespace(e.ns)
	p := both(t, e, diff.Options{}, diff.Input{Desired: []*unstructured.Unstructured{desired}, Live: live, Inventory: []object.ID{object.IDOf(live[0])}})
	assert.Equal(t, diff.Counts{None: 1}, p.Counts, "not a creation, nor a prune")

	server, offline := e.differs(diff.Options{})
	for name, d := range map[string]*diff.Differ{"server": server, "offline": offline, "offline without a cluster": e.noCluster(diff.Options{})} {
		c, err := d.Diff(e.ctx, desired, live[0])
		require.NoError(t, err, name)
		assert.Equal(t, diff.None, c.Action, "%s: %v", name, c.Paths)
	}
}

// injected is another manager's apply of an env var and a sidecar to the corpus's
// Deployment web.
const injected = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: web, env: [{name: INJECTED, value: "1"}]}
      - {name: proxy, image: "envoy:1.30"}`

// Without a cluster, a Deployment whose live copy has the server's defaults, and
// an env var and a sidecar another manager added, is unchanged: the shipped
// schemas merge the containers and env lists item by item, as the server does.
func TestNoClusterDefaultsAndForeignEnv(t *testing.T) {
	e := newEnv(t)
	objs := e.corpus("Deployment/web", "Service/web", "StatefulSet/db")
	e.apply(objs...)
	applyAs(e, "injector", injected)
	p, err := e.noCluster(diff.Options{}).Plan(e.ctx, diff.Input{Desired: objs, Live: e.live(objs...)})
	require.NoError(t, err)
	for _, c := range p.Changes {
		assert.Equal(t, diff.None, c.Action, "%s: %v", c.ID, c.Paths)
		assert.Equal(t, diff.TypingBuiltin, c.Typing, "%s", c.ID)
		assert.Empty(t, c.Warnings, "%s", c.ID)
	}
	both(t, e, diff.Options{}, diff.Input{Desired: objs, Live: e.live(objs...)})
}

// Change.Typing says which schema typed each object.
func TestTyping(t *testing.T) {
	e := newEnv(t)
	keep := []*unstructured.Unstructured{}
	for _, u := range e.corpus() {
		if k := u.GetKind(); k == "CustomResourceDefinition" || k == "Widget" || k == "ConfigMap" {
			keep = append(keep, u)
		}
	}
	require.Len(t, keep, 3)
	e.apply(keep...)
	created := mustObject(`{apiVersion: v1, kind: ConfigMap, metadata: {name: new}, data: {a: b}}`)
	created.SetNamespace(e.ns)
	in := diff.Input{Desired: append(keep, created), Live: e.live(keep...)}
	typing := func(d *diff.Differ, in diff.Input) map[string]diff.Typing {
		p, err := d.Plan(e.ctx, in)
		require.NoError(t, err)
		out := map[string]diff.Typing{}
		for _, c := range p.Changes {
			out[c.ID.Kind+"/"+c.ID.Name] = c.Typing
		}
		return out
	}
	server, offline := e.differs(diff.Options{})
	crd := keep[0].GetName()
	assert.Equal(t, map[string]diff.Typing{"CustomResourceDefinition/" + crd: "", "Widget/gear": "", "ConfigMap/settings": "", "ConfigMap/new": ""}, typing(server, in))
	assert.Equal(t, map[string]diff.Typing{"CustomResourceDefinition/" + crd: diff.TypingCluster, "Widget/gear": diff.TypingCluster, "ConfigMap/settings": diff.TypingCluster, "ConfigMap/new": diff.TypingCluster}, typing(offline, in))
	noCluster := e.noCluster(diff.Options{})
	assert.Equal(t, map[string]diff.Typing{"CustomResourceDefinition/" + crd: diff.TypingBuiltin, "Widget/gear": diff.TypingCRDManifest, "ConfigMap/settings": diff.TypingBuiltin, "ConfigMap/new": diff.TypingBuiltin}, typing(noCluster, in))
	// Without its CRD in the set, the custom resource is typed by deduction.
	in.Desired = in.Desired[1:]
	assert.Equal(t, diff.TypingDeduced, typing(noCluster, in)["Widget/gear"])
}

func TestReadCRDs(t *testing.T) {
	fsys := fstest.MapFS{
		"crds/widget.yaml": {Data: []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")},
		"crds/bad.yaml":    {Data: []byte("kind: [\n")},
	}
	_, err := diff.ReadCRDs(t.Context(), fsys, "crds")
	assert.ErrorContains(t, err, "crds/bad.yaml")
	delete(fsys, "crds/bad.yaml")
	crds, err := diff.ReadCRDs(t.Context(), fsys, "crds")
	require.NoError(t, err)
	require.Len(t, crds, 1)
	assert.Equal(t, "widgets.example.com", crds[0].GetName())
}
