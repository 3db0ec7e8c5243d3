package apply_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// nodes is a cluster with fake nodes, where Jobs run to completion or failure: the
// hook tests start it, the other tests never do.
var nodes = clustertest.New(clustertest.Options{Nodes: 2, KwokStages: []string{testtool.FailPodsStage}})

// hookEnv is one hook test's cluster access, on the cluster with nodes.
type hookEnv struct {
	*env
	ctx  context.Context
	gate apply.WaveGate

	mu    sync.Mutex
	order []string // the events of the last apply, in the order they came
}

func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	cfg := nodes.Config(t)
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "hooks-test"})
	require.NoError(t, err)
	w, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return &hookEnv{
		env:  &env{t: t, m: m, dyn: dynamic.NewForConfigOrDie(cfg), ns: nodes.NewNamespace(t)},
		ctx:  ctx,
		gate: w.Gate(health.WaitOptions{Timeout: time.Minute, FailFast: true}),
	}
}

// fixture decodes a file of testdata/hooks with the test's namespace, and the
// kwok label of its pods set to kwok ("fail" makes them fail).
func (e *hookEnv) fixture(name, kwok string) []*unstructured.Unstructured {
	e.t.Helper()
	b, err := os.ReadFile("testdata/hooks/" + name)
	require.NoError(e.t, err)
	return e.objects(strings.ReplaceAll(string(b), "KWOK", kwok))
}

// applyHooks applies objs with hooks and records the order of its events.
func (e *hookEnv) applyHooks(objs []*unstructured.Unstructured, opts apply.ApplyOptions) (*apply.Result, error) {
	e.mu.Lock()
	e.order = nil
	e.mu.Unlock()
	opts.Hooks, opts.HookGate = true, e.gate
	opts.OnEvent = func(ev apply.Event) {
		phase := string(ev.Phase)
		if phase == "" {
			phase = "apply"
		}
		e.mu.Lock()
		line := fmt.Sprintf("%s %s %s", phase, ev.Action, ev.ID.KubectlString())
		if ev.Reason != "" {
			line += ": " + ev.Reason
		}
		e.order = append(e.order, line)
		e.mu.Unlock()
	}
	res, err := e.m.Apply(e.ctx, objs, opts)
	e.t.Logf("events, in order:\n  %s", strings.Join(e.order, "\n  "))
	return res, err
}

// index returns the position of the first event that has all of words, or fails.
func (e *hookEnv) index(words ...string) int {
	e.t.Helper()
	for i, line := range e.order {
		if containsAll(line, words) {
			return i
		}
	}
	e.t.Fatalf("no event with %q in\n%s", words, strings.Join(e.order, "\n"))
	return -1
}

func (e *hookEnv) has(words ...string) bool {
	return slices.ContainsFunc(e.order, func(line string) bool { return containsAll(line, words) })
}

func containsAll(line string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(line, w) {
			return false
		}
	}
	return true
}

// jobsNamed returns the names of the live Jobs whose name starts with prefix.
func (e *hookEnv) jobsNamed(prefix string) []string {
	e.t.Helper()
	list, err := e.dyn.Resource(jobs).Namespace(e.ns).List(e.ctx, metav1.ListOptions{})
	require.NoError(e.t, err)
	var out []string
	for _, j := range list.Items {
		if strings.HasPrefix(j.GetName(), prefix) && j.GetDeletionTimestamp() == nil {
			out = append(out, j.GetName())
		}
	}
	return out
}

// TestHooksArgoCD runs Argo CD's hook phases around an apply, twice: PreSync (by
// wave) before anything of the set, Sync after it, PostSync once it is healthy;
// the Skip hook is never applied, the SyncFail hook does not run, and no hook is a
// member of the inventory or pruned. The second run replaces the PostSync hook
// (BeforeHookCreation) and creates a new PreSync Job (generateName).
func TestHooksArgoCD(t *testing.T) {
	e := newHookEnv(t)
	inv := e.applySet("shop", apply.ApplySetOptions{})
	objs := e.fixture("argocd.yaml", "complete")
	res, err := e.applyHooks(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.NoError(t, err)

	// PreSync by wave: the ConfigMap (wave -1) is done before the Job (wave 0) starts.
	cm := e.index("PreSync succeeded configmap/migrate-settings")
	migrate := e.index("PreSync created job.batch/migrate-db-")
	require.Less(t, cm, migrate)
	require.Less(t, e.index("PreSync succeeded job.batch/migrate-db-"), e.index("apply created configmap/web-settings"))
	require.Less(t, e.index("PreSync deleted job.batch/migrate-db-"), e.index("apply created configmap/web-settings"), "HookSucceeded deletes it")
	// As in Argo CD, the Sync hook of wave 0 runs with wave 0, before the objects of wave 1.
	require.Less(t, e.index("apply created configmap/web-settings"), e.index("Sync created job.batch/warm-cache"))
	require.Less(t, e.index("Sync succeeded job.batch/warm-cache"), e.index("apply created deployment.apps/web"))
	require.Less(t, e.index("Sync succeeded job.batch/warm-cache"), e.index("PostSync created job.batch/notify"))
	e.index("PostSync succeeded job.batch/notify")
	e.index("Skip skipped configmap/by-hand")
	require.False(t, e.has("SyncFail"), "no SyncFail hook runs after a sync that succeeded")
	require.False(t, e.has("pruned"))

	hooks := res.Hooks()
	ran := map[string]apply.Action{}
	for _, h := range hooks {
		name := h.ID.Name
		if strings.HasPrefix(name, "migrate-db-") {
			name = "migrate-db-"
			require.True(t, h.Deleted, "HookSucceeded")
		}
		ran[string(h.Phase)+" "+name] = h.Outcome
	}
	require.Equal(t, map[string]apply.Action{
		"PreSync migrate-settings": apply.Succeeded, "PreSync migrate-db-": apply.Succeeded, "Sync warm-cache": apply.Succeeded,
		"PostSync notify": apply.Succeeded, "Skip by-hand": apply.Skipped,
	}, ran)

	members, err := inv.Load(e.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"web", "web-settings"}, names(members), "hooks are not members")
	_, err = e.get(configMaps, "by-hand")
	require.True(t, apierrors.IsNotFound(err), "a Skip hook is never applied: %v", err)
	require.Empty(t, e.jobsNamed("migrate-db-"), "HookSucceeded deleted the PreSync Job")
	require.Empty(t, e.jobsNamed("warm-cache"), "HookSucceeded deleted the Sync Job")
	first, err := e.get(jobs, "notify")
	require.NoError(t, err, "the PostSync Job stays until the next run")
	require.Equal(t, "true", fmt.Sprint(first.GetLabels()[apply.HookLabel] != ""))

	// The second run: the PostSync Job of the first is deleted before it is created
	// again; a prune deletes no hook.
	_, err = e.applyHooks(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.NoError(t, err)
	require.Less(t, e.index("PostSync deleted job.batch/notify"), e.index("PostSync created job.batch/notify"))
	second, err := e.get(jobs, "notify")
	require.NoError(t, err)
	require.NotEqual(t, first.GetUID(), second.GetUID(), "BeforeHookCreation replaced the last run")
	require.False(t, e.has("pruned"))
	_, err = e.get(configMaps, "migrate-settings")
	require.NoError(t, err, "a PreSync ConfigMap without delete policy stays, and is not pruned")
}

// TestHooksPreSyncFails: a failed PreSync hook stops the sync, nothing is applied
// or pruned, and the SyncFail hooks run.
func TestHooksPreSyncFails(t *testing.T) {
	e := newHookEnv(t)
	inv := e.applySet("shop", apply.ApplySetOptions{})
	e.apply(e.objects(`
apiVersion: v1
kind: ConfigMap
metadata: {name: old, namespace: NS}
`), apply.ApplyOptions{Inventory: inv})

	objs := e.fixture("argocd.yaml", "fail")
	res, err := e.applyHooks(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.Error(t, err)
	require.ErrorContains(t, err, "PreSync hooks: hook job.batch/migrate-db-")
	require.ErrorIs(t, err, health.ErrDegraded)
	t.Log(err)

	require.Less(t, e.index("PreSync failed job.batch/migrate-db-"), e.index("SyncFail created job.batch/clean-up-"))
	e.index("SyncFail succeeded job.batch/clean-up-")
	for _, line := range e.order {
		require.False(t, strings.HasPrefix(line, "apply "), "an object was applied after a failed PreSync: %s", line)
		require.False(t, strings.HasPrefix(line, "Sync created"), "a Sync hook ran after a failed PreSync: %s", line)
		require.False(t, strings.HasPrefix(line, "PostSync created"), "a PostSync hook ran after a failed PreSync: %s", line)
	}
	e.index("PostSync skipped job.batch/notify", "not run: the sync failed")
	require.Zero(t, res.Count(apply.Pruned))
	_, err = e.get(configMaps, "old")
	require.NoError(t, err, "nothing is pruned after a failed PreSync")
	_, err = e.get(configMaps, "web-settings")
	require.True(t, apierrors.IsNotFound(err), "nothing is applied after a failed PreSync: %v", err)
	require.Len(t, e.jobsNamed("migrate-db-"), 1, "the failed Job stays (no HookFailed policy)")
	members, err := inv.Load(e.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"old"}, names(members))

	cleanUp := e.jobsNamed("clean-up-")
	require.Len(t, cleanUp, 1)

	// The next run fails again. The SyncFail hook's last run is deleted before it
	// is created again (BeforeHookCreation, the default, finds it by its label
	// though its name was generated); the PreSync Job, with HookSucceeded only,
	// gets a new name and the failed one stays, as in Argo CD.
	_, err = e.applyHooks(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.Error(t, err)
	require.Less(t, e.index("SyncFail deleted job.batch/"+cleanUp[0]), e.index("SyncFail created job.batch/clean-up-"))
	require.NotEqual(t, cleanUp, e.jobsNamed("clean-up-"))
	require.Len(t, e.jobsNamed("clean-up-"), 1)
	require.Len(t, e.jobsNamed("migrate-db-"), 2)
}

// TestHooksHelmChart renders a chart with weighted install and upgrade hooks and
// applies it twice: the first apply installs (no members recorded) and runs the
// pre-install hooks by weight and the post-install one, the second upgrades and
// runs pre-upgrade and post-upgrade hooks. Delete policies: hook-succeeded
// deletes, hook-failed keeps a hook that succeeded, before-hook-creation replaces.
func TestHooksHelmChart(t *testing.T) {
	e := newHookEnv(t)
	res, err := render.Auto{Helm: helm.New(helm.Options{})}.Render(e.ctx,
		render.Input{FS: os.DirFS("testdata/hooks"), Dir: "chart"},
		render.Options{Helm: render.HelmOptions{ReleaseName: "shop", Namespace: e.ns}})
	require.NoError(t, err)
	objs := object.Objects(res.Manifests)
	require.Len(t, objs, 6, "the Deployment and five hooks: the test hook is left out")
	inv := e.applySet("shop", apply.ApplySetOptions{})

	_, err = e.applyHooks(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.NoError(t, err)
	require.Less(t, e.index("PreSync succeeded configmap/shop-schema"), e.index("PreSync created job.batch/shop-create-db"), "weight -10 before -5")
	require.Less(t, e.index("PreSync deleted job.batch/shop-create-db"), e.index("apply created deployment.apps/shop-web"))
	require.Less(t, e.index("apply created deployment.apps/shop-web"), e.index("PostSync created job.batch/shop-smoke"))
	e.index("PostSync succeeded job.batch/shop-smoke")
	e.index("PreSync skipped job.batch/shop-migrate", "not run")
	e.index("PostSync skipped job.batch/shop-announce", "not run")
	require.False(t, e.has("created job.batch/shop-migrate"), "pre-upgrade runs on an upgrade only")
	firstSmoke, err := e.get(jobs, "shop-smoke")
	require.NoError(t, err)

	_, err = e.applyHooks(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.NoError(t, err)
	require.False(t, e.has("created configmap/shop-schema") || e.has("created job.batch/shop-create-db"), "pre-install runs on an install only")
	require.Less(t, e.index("PreSync succeeded job.batch/shop-migrate"), e.index("PostSync created job.batch/shop-announce"))
	require.Less(t, e.index("PostSync succeeded job.batch/shop-announce"), e.index("PostSync created job.batch/shop-smoke"), "weight 1 before 5")
	require.Less(t, e.index("PostSync deleted job.batch/shop-smoke"), e.index("PostSync created job.batch/shop-smoke"), "before-hook-creation, the default")
	e.index("PreSync deleted job.batch/shop-migrate", "HookSucceeded")
	secondSmoke, err := e.get(jobs, "shop-smoke")
	require.NoError(t, err)
	require.NotEqual(t, firstSmoke.GetUID(), secondSmoke.GetUID())
	_, err = e.get(jobs, "shop-announce")
	require.NoError(t, err, "hook-failed keeps a hook that succeeded")
	members, err := inv.Load(e.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"shop-web"}, names(members))
}

// TestHooksMalformed: a malformed hook annotation fails the apply before anything
// is written, naming the object; hooks need a gate.
func TestHooksMalformed(t *testing.T) {
	e := newEnv(t, apply.Options{})
	objs := e.objects(`
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: NS}
---
apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  namespace: NS
  annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: Sometimes}
`)
	gate := func(context.Context, []object.ID) error { return nil }
	res, err := e.m.Apply(context.Background(), objs, apply.ApplyOptions{Hooks: true, HookGate: gate})
	require.ErrorContains(t, err, `job.batch/migrate-* -n `+e.ns+`: annotation argocd.argoproj.io/hook-delete-policy="Sometimes"`)
	require.Empty(t, res.Events)
	_, err = e.get(configMaps, "a")
	require.True(t, apierrors.IsNotFound(err))

	_, err = e.m.Apply(context.Background(), objs[:1], apply.ApplyOptions{Hooks: true})
	require.ErrorContains(t, err, "HookGate")

	// Without Hooks, a hook named by generateName is refused as before.
	_, err = e.m.Apply(context.Background(), objs, apply.ApplyOptions{})
	require.ErrorContains(t, err, "generateName")
}

// TestHooksApplyFails: when an object of the set fails, the Sync and PostSync
// hooks do not run, the SyncFail hooks do, and the apply's error is returned.
func TestHooksApplyFails(t *testing.T) {
	e := newHookEnv(t)
	objs := e.objects(`
apiVersion: v1
kind: ConfigMap
metadata: {name: broken, namespace: NS}
data: {key: [not, a, string]}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  namespace: NS
  annotations: {argocd.argoproj.io/hook: PostSync}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: on-failure
  namespace: NS
  annotations: {argocd.argoproj.io/hook: SyncFail, argocd.argoproj.io/hook-delete-policy: HookSucceeded}
`)
	res, err := e.applyHooks(objs, apply.ApplyOptions{})
	require.ErrorContains(t, err, "configmap/broken")
	require.Less(t, e.index("apply failed configmap/broken"), e.index("SyncFail created configmap/on-failure"))
	e.index("SyncFail deleted configmap/on-failure")
	e.index("PostSync skipped configmap/after", "not run: the sync failed")
	require.False(t, e.has("PostSync created"), "no PostSync hook after a failed apply")
	require.Equal(t, []apply.HookResult{
		{ID: object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "after"}, Phase: apply.PostSync, Outcome: apply.Skipped, Reason: "not run: the sync failed"},
		{ID: object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "on-failure"}, Phase: apply.SyncFail, Ran: true, Outcome: apply.Succeeded, Deleted: true},
	}, res.Hooks())
}

// TestHooksHookFailedDeletes: HookFailed deletes a hook that failed (and the
// apply still fails); a hook that succeeded under the same policy stays.
func TestHooksHookFailedDeletes(t *testing.T) {
	e := newHookEnv(t)
	job := func(name, kwok string) string {
		return `apiVersion: batch/v1
kind: Job
metadata:
  name: ` + name + `
  namespace: NS
  annotations: {helm.sh/hook: pre-install, helm.sh/hook-delete-policy: hook-failed}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {gitopskit.io/kwok: ` + kwok + `}}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: example.com/tool:1}]
`
	}
	_, err := e.applyHooks(e.objects(job("works", "complete")+"---\n"+job("breaks", "fail")), apply.ApplyOptions{})
	require.ErrorContains(t, err, "PreSync hooks: hook job.batch/breaks")
	require.Less(t, e.index("PreSync failed job.batch/breaks"), e.index("PreSync deleted job.batch/breaks", "HookFailed"))
	require.False(t, e.has("deleted job.batch/works"))
	require.Equal(t, []string{"works"}, e.jobsNamed(""))
}

// Sync hooks run between the waves of the set's objects, as in Argo CD: with
// Sync hooks present the objects go wave by wave (then stage), so the page goes
// up after the back end and before any object of the front end, and comes down
// after the last of them.
func TestHooksSyncBetweenWaves(t *testing.T) {
	e := newHookEnv(t)
	_, err := e.applyHooks(e.fixture("waves.yaml", "ok"), apply.ApplyOptions{})
	require.NoError(t, err)
	backend := e.index("apply created configmap/backend")
	up := e.index("Sync succeeded job.batch/maint-page-up")
	frontSvc, frontCM := e.index("apply created service/frontend"), e.index("apply created configmap/frontend")
	down := e.index("Sync created job.batch/maint-page-down")
	require.Less(t, backend, e.index("Sync created job.batch/maint-page-up"))
	require.Less(t, up, min(frontSvc, frontCM), "the page is up before the front end changes")
	require.Less(t, max(frontSvc, frontCM), down, "the page comes down after the front end")
}
