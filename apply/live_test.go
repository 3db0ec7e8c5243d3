package apply_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
)

// With ApplyOptions.Live, the apply compares with the cache's copies: it lists
// nothing, an apply that changes nothing sends no request at all, and a manual
// edit the cache has seen is written back.
func TestApplyComparesWithLive(t *testing.T) {
	ctx := context.Background()
	cfg := cluster.Config(t)
	counted, verbs := testtool.CountVerbs(cfg)
	m, err := apply.NewForConfig(counted, apply.Options{})
	require.NoError(t, err)
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	require.NoError(t, err)
	cache := live.New(clients, live.Options{})
	t.Cleanup(cache.Stop)
	e := &env{t: t, m: m, dyn: dynamic.NewForConfigOrDie(cfg), ns: cluster.NewNamespace(t)}
	opts := apply.ApplyOptions{Live: cache, Force: true} // Force: the edit below is another manager's

	res := e.apply(e.objects(app), opts)
	assert.Equal(t, 3, res.Count(apply.Created), "%+v", res.Events)
	for _, res := range []string{"configmaps", "services", "deployments"} {
		assert.Zero(t, verbs.Get("list "+res), "list %s: %s", res, verbs)
	}

	ids := make([]object.ID, 0, 3)
	for _, u := range e.objects(app) {
		ids = append(ids, object.IDOf(u))
	}
	seen(t, cache, ids)
	verbs.Reset()
	res = e.apply(e.objects(app), opts)
	assert.Equal(t, 3, res.Count(apply.Unchanged), "%+v", res.Events)
	assert.Empty(t, verbs.String(), "an apply that changes nothing")

	cm, err := e.get(configMaps, "settings")
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedField(cm.Object, "red", "data", "color"))
	_, err = e.dyn.Resource(configMaps).Namespace(e.ns).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	seen(t, cache, ids)
	verbs.Reset()
	res = e.apply(e.objects(app), opts)
	assert.Equal(t, map[string]apply.Action{"settings": apply.Configured, "web": apply.Unchanged}, actions(res))
	assert.Equal(t, "patch configmaps: 1", verbs.String())
	got, err := e.get(configMaps, "settings")
	require.NoError(t, err)
	color, _, _ := unstructured.NestedString(got.Object, "data", "color")
	assert.Equal(t, "blue", color)

	// A Live that fails: the apply lists as without one.
	verbs.Reset()
	res = e.apply(e.objects(app), apply.ApplyOptions{Live: failingLive{}})
	assert.Equal(t, 3, res.Count(apply.Unchanged), "%+v", res.Events)
	assert.Equal(t, 1, verbs.Get("list configmaps"), "%s", verbs)
}

// An object created only if absent is read with a GET of its own, not judged
// by a cached copy that may lag behind: one the Live has not seen yet is still
// found and left alone.
func TestApplyLiveIfNotPresentReadsItself(t *testing.T) {
	cfg := cluster.Config(t)
	counted, verbs := testtool.CountVerbs(cfg)
	m, err := apply.NewForConfig(counted, apply.Options{})
	require.NoError(t, err)
	e := &env{t: t, m: m, dyn: dynamic.NewForConfigOrDie(cfg), ns: cluster.NewNamespace(t)}
	e.create(configMaps, `{apiVersion: v1, kind: ConfigMap, metadata: {name: seed, namespace: NS}, data: {token: theirs}}`)

	verbs.Reset()
	res := e.apply(e.objects(`{apiVersion: v1, kind: ConfigMap, metadata: {name: seed, namespace: NS,
  annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}, data: {token: ours}}`), apply.ApplyOptions{Live: laggingLive{}})
	ev := event(t, res, object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "seed"})
	assert.Equal(t, apply.Skipped, ev.Action, ev.Reason)
	assert.Equal(t, "get configmaps: 1", verbs.String())
}

// seen waits until cache holds ids at the resourceVersions the API server has.
func seen(t *testing.T, cache *live.Cache, ids []object.ID) {
	t.Helper()
	ctx := context.Background()
	clients, err := kube.NewForConfig(cluster.Config(t), kube.Options{})
	require.NoError(t, err)
	want := map[object.ID]string{}
	for _, id := range ids {
		m, err := clients.Mapper.RESTMapping(id.GroupKind())
		require.NoError(t, err)
		u, err := clients.Dynamic.Resource(m.Resource).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
		require.NoError(t, err)
		want[id] = u.GetResourceVersion()
	}
	require.Eventually(t, func() bool {
		got, err := cache.Objects(ctx, ids)
		if err != nil {
			return false
		}
		for id, rv := range want {
			if got[id] == nil || got[id].GetResourceVersion() != rv {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
}

// failingLive is a Live whose reads fail.
type failingLive struct{}

func (failingLive) Objects(context.Context, []object.ID) (map[object.ID]*unstructured.Unstructured, error) {
	return nil, errors.New("cache stopped")
}

// laggingLive is a Live that has not seen any object yet.
type laggingLive struct{}

func (laggingLive) Objects(context.Context, []object.ID) (map[object.ID]*unstructured.Unstructured, error) {
	return nil, nil
}
