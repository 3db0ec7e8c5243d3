package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// nodes is a cluster with fake nodes, where Jobs run to completion: the hook
// tests start it, the other tests never do.
var nodes = clustertest.New(clustertest.Options{Nodes: 2})

const (
	hookApp = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {key: one}
---
apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: example.com/migrate:1}]
`
	hookDelete = `apiVersion: batch/v1
kind: Job
metadata:
  name: farewell
  annotations: {argocd.argoproj.io/hook: PostDelete}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: farewell, image: example.com/farewell:1}]
`
)

// TestReconcileHooks: a pass with Options.Hooks runs the hooks around its apply,
// leaves them out of the plan, the drift, the inventory and the health, and
// reports them in Result.Hooks; a pass in sync runs none; a pass whose set is
// empty deletes the members and runs the PostDelete hook after the prune.
func TestReconcileHooks(t *testing.T) {
	cfg := nodes.Config(t)
	ns := nodes.NewNamespace(t)
	dir := t.TempDir()
	write := func(files map[string]string) {
		for name, content := range files {
			p := filepath.Join(dir, name)
			if content == "" {
				require.NoError(t, os.Remove(p))
				continue
			}
			require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		}
	}
	write(map[string]string{"app.yaml": hookApp, "delete.yaml": hookDelete})
	var (
		mu    sync.Mutex
		order []string
	)
	rec, err := reconcile.NewForConfig(cfg, reconcile.Stages{Source: source.Local{Dir: dir}}, reconcile.Options{
		Cluster: reconcile.ClusterOptions{FieldManager: "hooks-test", Inventory: object.ID{Kind: "Secret", Namespace: ns, Name: "inventory"}, Namespace: ns},
		Prune:   true, AllowEmpty: true, Wait: true, HealthTimeout: time.Minute, Hooks: true,
		OnEvent: func(e reconcile.Event) {
			if e.Kind != reconcile.ObjectDone {
				return
			}
			phase := string(e.Object.Phase)
			if phase == "" {
				phase = "apply"
			}
			mu.Lock()
			defer mu.Unlock()
			order = append(order, fmt.Sprintf("%s: %s %s %s", e.Stage, phase, e.Object.Action, e.Object.ID.KubectlString()))
		},
	})
	require.NoError(t, err)
	pass := func() *reconcile.Result {
		t.Helper()
		mu.Lock()
		order = nil
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := rec.Reconcile(ctx)
		t.Logf("events, in order:\n  %s", strings.Join(order, "\n  "))
		require.NoError(t, err)
		return res
	}

	res := pass()
	require.Len(t, res.Plan.Changes, 1, "hooks are not in the plan")
	require.Equal(t, []string{"settings"}, idNames(res.Drift))
	require.Equal(t, []string{"settings"}, idNames(res.Applied()))
	require.Len(t, res.HealthObjects, 1, "hooks are not in the set's health")
	var ran []string
	for _, h := range res.Hooks() {
		ran = append(ran, fmt.Sprintf("%s %s ran=%v deleted=%v", h.Phase, h.Outcome, h.Ran, h.Deleted))
	}
	require.Equal(t, []string{"PostDelete skipped ran=false deleted=false", "PreSync succeeded ran=true deleted=true"}, ran)
	require.True(t, strings.HasPrefix(order[1], "apply: PreSync created job.batch/migrate-"), order)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	inv, err := cs.CoreV1().Secrets(ns).Get(context.Background(), "inventory", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotContains(t, fmt.Sprint(inv.Annotations), "Job", "no hook kind in the ApplySet")

	res = pass()
	require.Equal(t, reconcile.SkipInSync, res.NotApplied, "hooks are not drift")
	require.Empty(t, res.Hooks(), "a pass in sync runs no hook")

	write(map[string]string{"app.yaml": ""})
	res = pass()
	require.Equal(t, []string{"settings"}, idNames(res.Pruned()))
	require.Len(t, order, 3, order)
	require.Equal(t, "prune: apply pruned configmap/settings -n "+ns, order[0])
	require.Equal(t, "prune: PostDelete created job.batch/farewell -n "+ns, order[1])
	require.Equal(t, "prune: PostDelete succeeded job.batch/farewell -n "+ns, order[2])
	_, err = cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err))
}

func idNames(ids []object.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Name
	}
	return out
}

// TestReconcileMalformedHook: with Options.Hooks, a malformed hook fails the pass
// before the diff, naming its file and line and the object; nothing is written.
func TestReconcileMalformedHook(t *testing.T) {
	e := newEnv(t, reconcile.Options{Hooks: true, Prune: true})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1"), "hook.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  namespace: app
  annotations: {helm.sh/hook: pre-instal}
`})
	res, err := e.fail()
	require.ErrorContains(t, err, `hook.yaml:1: job.batch/migrate-* -n app: annotation helm.sh/hook="pre-instal"`)
	require.Equal(t, reconcile.StageDiff, reconcile.FailedStage(err))
	require.Equal(t, reconcile.SkipDiffFailed, res.NotApplied)
	e.wantObjects()
}
