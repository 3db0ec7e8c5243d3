package diff_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// parity counts, across the cluster tests, the objects the server engine and an
// offline engine both diffed and those where they disagreed on the action or the
// paths.
var parity struct {
	sync.Mutex
	compared, disagreed int
	details             []string
}

// both plans in with the server differ and the offline differs (typed by the
// cluster and by no cluster), asserts they agree object by object and returns the
// server's plan.
func both(t *testing.T, e *env, opts diff.Options, in diff.Input) *diff.Plan {
	t.Helper()
	server, offline := e.differs(opts)
	sp, err := server.Plan(e.ctx, in)
	require.NoError(t, err, "server engine")
	for _, o := range []struct {
		name string
		d    *diff.Differ
	}{{"offline", offline}, {"offline without a cluster", e.noCluster(opts)}} {
		op, err := o.d.Plan(e.ctx, in)
		require.NoError(t, err, o.name)
		require.Len(t, op.Changes, len(sp.Changes))
		parity.Lock()
		for i, sc := range sp.Changes {
			oc := op.Changes[i]
			parity.compared++
			if sc.ID != oc.ID || sc.Action != oc.Action || strings.Join(sc.Paths, " ") != strings.Join(oc.Paths, " ") {
				parity.disagreed++
				d := fmt.Sprintf("%s: server %s %v, %s %s %v (%s typing)", sc.ID, sc.Action, sc.Paths, o.name, oc.Action, oc.Paths, oc.Typing)
				parity.details = append(parity.details, d)
				t.Errorf("engines disagree: %s", d)
			}
		}
		parity.Unlock()
	}
	return sp
}

func TestNoFalseDrift(t *testing.T) {
	e := newEnv(t)
	objs := e.corpus()
	e.apply(objs...)
	p := both(t, e, diff.Options{}, diff.Input{Desired: objs, Live: e.live(objs...)})
	assert.Equal(t, diff.Counts{None: len(objs)}, p.Counts)
	for _, c := range p.Changes {
		assert.Equal(t, diff.None, c.Action, "%s: %v", c.ID, c.Paths)
		assert.Empty(t, c.Warnings, "%s", c.ID)
	}
	var text bytes.Buffer
	require.NoError(t, p.WriteText(&text, diff.TextOptions{}))
	assert.Empty(t, text.String())
}

// kubectlEdit changes a live object as `kubectl edit` does: an update under
// another field manager, which takes ownership of what it changes.
func kubectlEdit(e *env, live *unstructured.Unstructured, mutate func(o map[string]any)) {
	e.t.Helper()
	mutate(live.Object)
	_, err := e.resource(live).Update(e.ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	require.NoError(e.t, err)
}

// applyAs server-side applies a partial object as another manager.
func applyAs(e *env, fieldManager, manifest string) {
	e.t.Helper()
	u := mustObject(manifest)
	u.SetNamespace(e.ns)
	_, err := e.resource(u).Apply(e.ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	require.NoError(e.t, err)
}

func containers(o map[string]any) []any {
	c, _, _ := unstructured.NestedSlice(o, "spec", "template", "spec", "containers")
	return c
}

func setContainers(o map[string]any, c []any) {
	_ = unstructured.SetNestedSlice(o, c, "spec", "template", "spec", "containers")
}

func TestDrift(t *testing.T) {
	type tc struct {
		name    string
		opts    diff.Options
		edit    func(e *env, objs []*unstructured.Unstructured) // changes live
		desired func(objs []*unstructured.Unstructured)         // changes desired
		want    map[string][]string                             // kind/name -> paths; others None
	}
	const web = "Deployment/web"
	cases := []tc{{
		name: "image edited by kubectl",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			kubectlEdit(e, e.get(objs, web), func(o map[string]any) {
				c := containers(o)
				c[0].(map[string]any)["image"] = "nginx:1.28"
				setContainers(o, c)
			})
		},
		want: map[string][]string{web: {`.spec.template.spec.containers[name="web"].image`}},
	}, {
		name: "replicas scaled by another manager",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			kubectlEdit(e, e.get(objs, web), func(o map[string]any) { o["spec"].(map[string]any)["replicas"] = int64(5) })
		},
		want: map[string][]string{web: {".spec.replicas"}},
	}, {
		name: "replicas owned by an autoscaler and not declared",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			kubectlEdit(e, e.get(objs, "Deployment/api"), func(o map[string]any) { o["spec"].(map[string]any)["replicas"] = int64(7) })
		},
	}, {
		name: "replicas owned by an autoscaler, reported on request",
		opts: diff.Options{ReportForeign: true},
		edit: func(e *env, objs []*unstructured.Unstructured) {
			kubectlEdit(e, e.get(objs, "Deployment/api"), func(o map[string]any) { o["spec"].(map[string]any)["replicas"] = int64(7) })
		},
		want: map[string][]string{"Deployment/api": nil},
	}, {
		name: "our label changed by kubectl",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			kubectlEdit(e, e.get(objs, web), func(o map[string]any) {
				_ = unstructured.SetNestedField(o, "backend", "metadata", "labels", "tier")
			})
		},
		want: map[string][]string{web: {".metadata.labels.tier"}},
	}, {
		name: "label added by another manager",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			applyAs(e, "labeler", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, labels: {team: shop}}}`)
		},
	}, {
		name: "container port removed by kubectl",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			kubectlEdit(e, e.get(objs, web), func(o map[string]any) {
				c := containers(o)
				ports := c[0].(map[string]any)["ports"].([]any)
				c[0].(map[string]any)["ports"] = ports[:1]
				setContainers(o, c)
			})
		},
		want: map[string][]string{web: {`.spec.template.spec.containers[name="web"].ports[containerPort=8080]`}},
	}, {
		name: "env var and sidecar added by another manager",
		edit: func(e *env, objs []*unstructured.Unstructured) {
			applyAs(e, "injector", injected)
		},
	}, {
		name: "desired changes image, drops a label and a port",
		desired: func(objs []*unstructured.Unstructured) {
			d := find(objs, web)
			delete(d.Object["metadata"].(map[string]any)["labels"].(map[string]any), "tier")
			c := containers(d.Object)
			c[0].(map[string]any)["image"] = "nginx:1.28"
			c[0].(map[string]any)["ports"] = c[0].(map[string]any)["ports"].([]any)[:1]
			setContainers(d.Object, c)
		},
		want: map[string][]string{web: {
			".metadata.labels.tier",
			`.spec.template.spec.containers[name="web"].image`,
			`.spec.template.spec.containers[name="web"].ports[containerPort=8080]`,
		}},
	}, {
		name: "desired changes a service port and a config value, drops a key",
		desired: func(objs []*unstructured.Unstructured) {
			s := find(objs, "Service/web")
			ports, _, _ := unstructured.NestedSlice(s.Object, "spec", "ports")
			ports[0].(map[string]any)["targetPort"] = int64(8081)
			_ = unstructured.SetNestedSlice(s.Object, ports, "spec", "ports")
			cm := find(objs, "ConfigMap/settings")
			cm.Object["data"] = map[string]any{"color": "green"}
		},
		want: map[string][]string{
			"Service/web":        {`.spec.ports[name="http"].targetPort`},
			"ConfigMap/settings": {".data.color", ".data.size"},
		},
	}, {
		name: "desired quantities written differently",
		desired: func(objs []*unstructured.Unstructured) {
			d := find(objs, web)
			c := containers(d.Object)
			_ = unstructured.SetNestedField(c[0].(map[string]any), "1", "resources", "requests", "cpu")
			_ = unstructured.SetNestedField(c[0].(map[string]any), "512Mi", "resources", "limits", "memory")
			setContainers(d.Object, c)
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			objs := e.corpus(web, "Deployment/api", "Service/web", "ConfigMap/settings")
			e.apply(objs...)
			if c.edit != nil {
				c.edit(e, objs)
			}
			if c.desired != nil {
				c.desired(objs)
			}
			opts := c.opts
			opts.Force = true
			p := both(t, e, opts, diff.Input{Desired: objs, Live: e.live(objs...)})
			for _, ch := range p.Changes {
				key := ch.ID.Kind + "/" + ch.ID.Name
				want, changed := c.want[key]
				if !changed {
					assert.Equal(t, diff.None, ch.Action, "%s: %v", key, ch.Paths)
					continue
				}
				assert.Equal(t, diff.Update, ch.Action, key)
				assert.Equal(t, want, ch.Paths, key)
			}
		})
	}
}

func TestConflictWithoutForce(t *testing.T) {
	e := newEnv(t)
	objs := e.corpus("Deployment/web")
	e.apply(objs...)
	kubectlEdit(e, e.live(objs...)[0], func(o map[string]any) { o["spec"].(map[string]any)["replicas"] = int64(5) })
	server, offline := e.differs(diff.Options{})
	live := e.live(objs...)[0]
	for name, d := range map[string]*diff.Differ{"server": server, "offline": offline} {
		_, err := d.Diff(e.ctx, objs[0], live)
		var ce *apply.ConflictError
		require.ErrorAs(t, err, &ce, name)
		assert.Equal(t, []apply.Conflict{{Field: ".spec.replicas", Manager: "kubectl-edit"}}, ce.Conflicts, name)
	}
}

func TestCreateAndPrune(t *testing.T) {
	e := newEnv(t)
	objs := e.corpus("ConfigMap/settings", "Service/web")
	e.apply(objs[0])
	gone := object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "old"}
	p := both(t, e, diff.Options{}, diff.Input{Desired: objs, Live: e.live(objs[0]), Inventory: []object.ID{object.IDOf(objs[0]), gone}})
	assert.Equal(t, diff.Counts{Create: 1, Delete: 1, None: 1}, p.Counts)
	require.Len(t, p.Changes, 3)
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.ID.Kind+"/"+c.ID.Name+" "+c.Action.String())
	}
	assert.Equal(t, []string{"ConfigMap/old Delete", "ConfigMap/settings Create", "Service/web None"}, got, "ordered by ID")
}
