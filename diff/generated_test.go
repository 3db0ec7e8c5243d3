package diff_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
)

var seedFlag = flag.Uint64("diff.seed", 0, "seed of TestGeneratedManifests; 0 is the fixed default")

const (
	defaultSeed = 20260613
	// generatedObjects is the corpus size: 12 objects of each of the 22 kinds.
	generatedObjects = 264
)

// noCluster returns a differ whose offline engine has no schema source: built-in
// kinds are typed by the shipped schemas, custom resources by the set's CRDs.
func (e *env) noCluster(opts diff.Options) *diff.Differ {
	opts.FieldManager = manager
	d, err := diff.New(diff.NewOffline(nil, diff.OfflineOptions{}), opts)
	require.NoError(e.t, err)
	return d
}

// TestGeneratedManifests applies random valid manifests of the built-in kinds,
// then diffs them twice with the server engine and the offline engine, typed by the
// cluster and by no cluster: first the manifests as applied (nothing changes), then
// the same objects written differently (quantities as numbers or strings, integers
// as floats, empty or absent maps and lists, nulls), a third of them also changed,
// after other managers edited some live objects. The engines must agree on every
// object.
func TestGeneratedManifests(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = defaultSeed
	}
	t.Logf("seed %d (run again with -diff.seed=%d)", seed, seed)
	e := newEnv(t)
	r := rand.New(rand.NewPCG(seed, 0))
	applied := make([]*unstructured.Unstructured, generatedObjects)
	desired := make([]*unstructured.Unstructured, generatedObjects)
	changed := 0
	for i := range applied {
		content := r.Uint64()
		applied[i] = newGenerator(e.ns, i, content, r.Uint64()).generate()
		g := newGenerator(e.ns, i, content, r.Uint64())
		g.addDefaults = true
		desired[i] = g.generate()
		if r.IntN(3) == 0 {
			mutate(r, desired[i])
			changed++
		}
	}
	e.applyAll(applied)

	p := both(t, e, diff.Options{Force: true}, diff.Input{Desired: applied, Live: e.live(applied...)})
	for _, c := range p.Changes {
		assert.Equal(t, diff.None, c.Action, "server engine, %s: %v", c.ID, c.Paths)
	}

	edited := 0
	for i, u := range applied {
		switch r.IntN(8) {
		case 0:
			e.labelAs(u, "labeler", map[string]any{"team": "shop"}) // foreign: not drift
			edited++
		case 1:
			e.editLabel(u, fmt.Sprintf("l%d", r.IntN(2)), "edited") // ours, changed: drift
			edited++
		}
		_ = i
	}
	p = both(t, e, diff.Options{Force: true}, diff.Input{Desired: desired, Live: e.live(applied...)})
	t.Logf("corpus: %d generated objects (%d changed, %d live copies edited by other managers); "+
		"second pass: %d updates, %d unchanged by the server engine", generatedObjects, changed, edited, p.Counts.Update, p.Counts.None)
	assert.Positive(t, p.Counts.Update, "the corpus changes nothing")
}

// applyAll server-side applies objs as our manager, four at a time, and deletes the
// cluster-scoped ones when the test ends.
func (e *env) applyAll(objs []*unstructured.Unstructured) {
	errs := make([]error, len(objs))
	parallel.Do(e.ctx, 4, len(objs), func(i int) {
		u := objs[i]
		_, errs[i] = e.resource(u).Apply(e.ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: true})
	})
	for i, err := range errs {
		require.NoError(e.t, err, "apply %s", object.IDOf(objs[i]))
	}
	e.t.Cleanup(func() {
		for _, u := range objs {
			if !strings.HasPrefix(u.GetName(), e.ns+"-") {
				continue // namespaced: goes with the namespace
			}
			_ = e.resource(u).Delete(context.Background(), u.GetName(), metav1.DeleteOptions{})
		}
	})
}

// labelAs applies labels to u's live object as another field manager.
func (e *env) labelAs(u *unstructured.Unstructured, fieldManager string, labels map[string]any) {
	e.t.Helper()
	p := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(),
		"metadata": map[string]any{"name": u.GetName(), "labels": labels},
	}}
	_, err := e.resource(u).Apply(e.ctx, u.GetName(), p, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	require.NoError(e.t, err, "label %s", object.IDOf(u))
}

// editLabel sets a label of u's live object as `kubectl edit` would.
func (e *env) editLabel(u *unstructured.Unstructured, key, value string) {
	e.t.Helper()
	live := e.live(u)[0]
	labels := live.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[key] = value
	live.SetLabels(labels)
	_, err := e.resource(u).Update(e.ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	require.NoError(e.t, err, "edit %s", object.IDOf(u))
}

// mutate changes what u means, in a way the API server accepts as an update.
func mutate(r *rand.Rand, u *unstructured.Unstructured) {
	o := u.Object
	md := o["metadata"].(map[string]any)
	switch r.IntN(3) {
	case 0:
		labels, _ := md["labels"].(map[string]any)
		if len(labels) > 0 {
			keys := sortedKeys(labels)
			delete(labels, keys[r.IntN(len(keys))])
			return
		}
		md["labels"] = map[string]any{"added": "yes"}
		return
	case 1:
		md["annotations"] = map[string]any{"example.com/changed": "yes"}
		return
	}
	switch u.GetKind() {
	case "ConfigMap":
		o["data"] = map[string]any{"k0": "changed"}
	case "Deployment", "StatefulSet", "DaemonSet":
		cs, _, _ := unstructured.NestedSlice(o, "spec", "template", "spec", "containers")
		c := cs[r.IntN(len(cs))].(map[string]any)
		if r.IntN(2) == 0 {
			c["image"] = "nginx:1.28"
		} else {
			env, _ := c["env"].([]any)
			c["env"] = append(slices.Clone(env), map[string]any{"name": "ADDED", "value": "1"})
		}
		_ = unstructured.SetNestedSlice(o, cs, "spec", "template", "spec", "containers")
	case "Service":
		ports, _, _ := unstructured.NestedSlice(o, "spec", "ports")
		ports[0].(map[string]any)["targetPort"] = int64(9090)
		_ = unstructured.SetNestedSlice(o, ports, "spec", "ports")
	case "HorizontalPodAutoscaler":
		_ = unstructured.SetNestedField(o, int64(9), "spec", "maxReplicas")
	case "ResourceQuota":
		_ = unstructured.SetNestedField(o, "3", "spec", "hard", "requests.cpu")
	case "Role", "ClusterRole":
		rules, _, _ := unstructured.NestedSlice(o, "rules")
		rules[0].(map[string]any)["verbs"] = []any{"get", "list", "watch"}
		_ = unstructured.SetNestedSlice(o, rules, "rules")
	default:
		md["annotations"] = map[string]any{"example.com/changed": "yes"}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
