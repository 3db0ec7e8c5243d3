package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/reconcile/fake"
	"github.com/gitopskit/gitopskit/render"
)

func configMap(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: app\ndata:\n  key: \"" + value + "\"\n"
}

func cmID(name string) object.ID { return object.ID{Kind: "ConfigMap", Namespace: "app", Name: name} }

type env struct {
	t       *testing.T
	src     *fake.Source
	cluster *fake.Cluster
	r       *reconcile.Reconciler
	events  []reconcile.Event
}

func newEnv(t *testing.T, opts reconcile.Options) *env {
	t.Helper()
	e := &env{t: t, src: &fake.Source{}, cluster: fake.NewCluster()}
	opts.OnEvent = func(ev reconcile.Event) { e.events = append(e.events, ev) }
	r, err := reconcile.New(reconcile.Stages{Source: e.src, Differ: e.cluster, Applier: e.cluster, Health: e.cluster}, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	return e
}

func (e *env) pass() *reconcile.Result {
	e.t.Helper()
	res, err := e.r.Reconcile(context.Background())
	if err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (e *env) fail() (*reconcile.Result, error) {
	e.t.Helper()
	res, err := e.r.Reconcile(context.Background())
	if err == nil {
		e.t.Fatal("reconcile succeeded, want an error")
	}
	return res, err
}

func (e *env) wantObjects(ids ...object.ID) {
	e.t.Helper()
	if got := e.cluster.IDs(); !slices.Equal(got, ids) {
		e.t.Fatalf("cluster holds %v, want %v", got, ids)
	}
}

func (e *env) wantValue(name, value string) {
	e.t.Helper()
	u := e.cluster.Get(cmID(name))
	if u == nil {
		e.t.Fatalf("%s missing", name)
	}
	if got, _, _ := unstructured.NestedString(u.Object, "data", "key"); got != value {
		e.t.Fatalf("%s data.key = %q, want %q", name, got, value)
	}
}

func TestFirstPassAppliesThenSteadyStateSkipsRenderAndApply(t *testing.T) {
	e := newEnv(t, reconcile.Options{Prune: true, Wait: true})
	e.src.Commit("main@sha1:1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})

	res := e.pass()
	if !res.Rendered || !res.Wrote || res.Desired != 2 || len(res.Applied()) != 2 || res.InSync() {
		t.Fatalf("first pass: rendered=%v wrote=%v desired=%d applied=%v drift=%v", res.Rendered, res.Wrote, res.Desired, res.Applied(), res.Drift)
	}
	if res.Plan.Counts.Create != 2 || res.Plan.Changes[0].Origin.File != "a.yaml" {
		t.Fatalf("plan = %+v", res.Plan.Changes)
	}
	if res.Health.Code != health.Healthy || len(res.HealthObjects) != 2 {
		t.Fatalf("health = %v %v", res.Health, res.HealthObjects)
	}
	e.wantObjects(cmID("a"), cmID("b"))
	if got := e.cluster.Calls(); !slices.Equal(got, []string{"diff", "apply", "wait"}) {
		t.Fatalf("calls = %v", got)
	}
	if e.r.LastApplied() != "main@sha1:1" {
		t.Fatalf("last applied = %q", e.r.LastApplied())
	}

	res = e.pass()
	if res.Rendered || res.Wrote || !res.InSync() || res.NotApplied != reconcile.SkipInSync {
		t.Fatalf("steady state: rendered=%v wrote=%v drift=%v note=%q", res.Rendered, res.Wrote, res.Drift, res.NotApplied)
	}
	if got := e.cluster.Calls()[3:]; !slices.Equal(got, []string{"diff", "health"}) {
		t.Fatalf("steady state calls = %v, want diff and a health check without waiting", got)
	}
	for _, s := range []reconcile.Stage{reconcile.StageSource, reconcile.StageRender, reconcile.StageDiff, reconcile.StageHealth} {
		if _, ok := res.Durations[s]; !ok {
			t.Errorf("no duration for stage %s", s)
		}
	}
	if _, ok := res.Durations[reconcile.StageApply]; ok {
		t.Error("apply stage ran in steady state")
	}
}

func TestNewCommitAppliedAndRemovedFilePruned(t *testing.T) {
	e := newEnv(t, reconcile.Options{Prune: true})
	e.src.Commit("main@sha1:1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
	e.pass()

	e.src.Commit("main@sha1:2", map[string]string{"a.yaml": configMap("a", "2"), "b.yaml": configMap("b", "1")})
	res := e.pass()
	if !res.Rendered || !slices.Equal(res.Drift, []object.ID{cmID("a")}) || !slices.Equal(res.Applied(), []object.ID{cmID("a")}) {
		t.Fatalf("update: rendered=%v drift=%v applied=%v", res.Rendered, res.Drift, res.Applied())
	}
	if c := res.Plan.Changed()[0]; c.Action != diff.Update || !slices.Equal(c.Paths, []string{".data"}) {
		t.Fatalf("change = %+v", c)
	}
	e.wantValue("a", "2")

	e.src.Commit("main@sha1:3", map[string]string{"a.yaml": configMap("a", "2")})
	res = e.pass()
	if !slices.Equal(res.Pruned(), []object.ID{cmID("b")}) || res.Plan.Counts.Delete != 1 {
		t.Fatalf("prune: pruned=%v plan=%+v", res.Pruned(), res.Plan.Changes)
	}
	if _, ok := res.Durations[reconcile.StageApply]; ok {
		t.Error("apply stage ran for a plan with only a deletion")
	}
	e.wantObjects(cmID("a"))
}

func TestWithoutPruneRemovedFileStays(t *testing.T) {
	e := newEnv(t, reconcile.Options{})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
	e.pass()
	e.src.Commit("r2", map[string]string{"a.yaml": configMap("a", "1")})
	res := e.pass()
	if res.Wrote || len(res.Pruned()) != 0 || !slices.Equal(res.Drift, []object.ID{cmID("b")}) {
		t.Fatalf("wrote=%v pruned=%v drift=%v", res.Wrote, res.Pruned(), res.Drift)
	}
	e.wantObjects(cmID("a"), cmID("b"))
}

func TestDriftByMode(t *testing.T) {
	edited := &unstructured.Unstructured{}
	edited.SetAPIVersion("v1")
	edited.SetKind("ConfigMap")
	edited.SetNamespace("app")
	edited.SetName("a")
	_ = unstructured.SetNestedField(edited.Object, "edited", "data", "key")

	for _, tc := range []struct {
		mode      reconcile.Mode
		wantValue string
		wantWrote bool
		wantNote  reconcile.Skip
	}{
		{reconcile.Apply, "edited", false, reconcile.SkipAppliedRevision},
		{reconcile.SelfHeal, "1", true, ""},
		{reconcile.DriftOnly, "edited", false, reconcile.SkipDriftOnly},
		{reconcile.DryRun, "edited", false, ""},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			e := newEnv(t, reconcile.Options{Mode: tc.mode})
			// Sync with a self-healing reconciler first, so every mode starts in sync.
			e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
			if _, err := mustNew(t, e.src, e.cluster, reconcile.SelfHeal).Reconcile(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.pass() // the mode's reconciler sees the revision in sync
			e.cluster.Edit(edited)

			res := e.pass()
			if !slices.Equal(res.Drift, []object.ID{cmID("a")}) || res.Wrote != tc.wantWrote || res.NotApplied != tc.wantNote {
				t.Fatalf("drift=%v wrote=%v note=%q", res.Drift, res.Wrote, res.NotApplied)
			}
			e.wantValue("a", tc.wantValue)
			if tc.mode == reconcile.DryRun && (len(res.Objects) != 1 || !res.Objects[0].DryRun || res.Objects[0].Action != apply.Configured) {
				t.Fatalf("dry run objects = %+v", res.Objects)
			}
		})
	}
}

func mustNew(t *testing.T, src *fake.Source, c *fake.Cluster, mode reconcile.Mode) *reconcile.Reconciler {
	t.Helper()
	r, err := reconcile.New(reconcile.Stages{Source: src, Differ: c, Applier: c, Health: c}, reconcile.Options{Mode: mode, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDriftOnlyNeverWrites(t *testing.T) {
	c := fake.NewCluster()
	src := &fake.Source{}
	r, err := reconcile.New(reconcile.Stages{Source: src, Differ: c, Health: c}, reconcile.Options{Mode: reconcile.DriftOnly, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	res, err := r.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrote || len(res.Drift) != 1 || len(c.IDs()) != 0 || res.Health.Code != health.Missing {
		t.Fatalf("wrote=%v drift=%v cluster=%v health=%v", res.Wrote, res.Drift, c.IDs(), res.Health)
	}
}

func TestBrokenRenderChangesNothing(t *testing.T) {
	e := newEnv(t, reconcile.Options{Prune: true, Mode: reconcile.SelfHeal})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
	e.pass()
	calls := len(e.cluster.Calls())

	// b.yaml is broken: were it ignored, b would be pruned.
	e.src.Commit("r2", map[string]string{"a.yaml": configMap("a", "2"), "b.yaml": "kind: [unclosed\n"})
	res, err := e.fail()
	if reconcile.FailedStage(err) != reconcile.StageRender || !strings.Contains(err.Error(), "b.yaml") || !strings.Contains(err.Error(), "r2") {
		t.Fatalf("error = %v, want a render error naming b.yaml and the revision", err)
	}
	if got := e.cluster.Calls()[calls:]; len(got) != 0 {
		t.Fatalf("a failed render called %v", got)
	}
	if res.Revision != "r2" || res.Wrote {
		t.Fatalf("result: revision=%q wrote=%v", res.Revision, res.Wrote)
	}
	e.wantObjects(cmID("a"), cmID("b"))
	e.wantValue("a", "1")

	// Reverting the commit rolls forward again.
	e.src.Commit("r3", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
	if res := e.pass(); !res.InSync() || res.Wrote {
		t.Fatalf("after revert: drift=%v wrote=%v", res.Drift, res.Wrote)
	}
}

// Objects named by generateName (Argo CD's and Helm's hook Jobs) render, but a
// pass cannot apply them or keep them in the inventory: it fails before writing,
// naming each and its file.
func TestGenerateNameRefusedBeforeWriting(t *testing.T) {
	e := newEnv(t, reconcile.Options{Prune: true})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	e.pass()
	calls := len(e.cluster.Calls())

	hook := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  namespace: app\n"
	e.src.Commit("r2", map[string]string{"a.yaml": configMap("a", "2"), "hooks.yaml": hook + "---\n" + hook})
	res, err := e.fail()
	for _, want := range []string{"job.batch/migrate-* -n app (hooks.yaml:1)", "job.batch/migrate-* -n app (hooks.yaml:7)", "need metadata.name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := e.cluster.Calls()[calls:]; len(got) != 0 || res.Wrote {
		t.Fatalf("calls %v, wrote %v", got, res.Wrote)
	}
	e.wantValue("a", "1")
}

func TestFailedApplyNeverPrunes(t *testing.T) {
	e := newEnv(t, reconcile.Options{Prune: true})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
	e.pass()

	e.cluster.FailApply(cmID("a"), errors.New("admission webhook denied the request"))
	e.src.Commit("r2", map[string]string{"a.yaml": configMap("a", "2")})
	res, err := e.fail()
	if reconcile.FailedStage(err) != reconcile.StageApply || !strings.Contains(err.Error(), "a.yaml:1: configmap/a -n app: ") || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("error = %v, want an apply error naming the object and its file", err)
	}
	if slices.Contains(e.cluster.Calls(), "prune") || len(res.Pruned()) != 0 || !slices.Equal(res.Failed(), []object.ID{cmID("a")}) {
		t.Fatalf("calls=%v pruned=%v failed=%v", e.cluster.Calls(), res.Pruned(), res.Failed())
	}
	e.wantObjects(cmID("a"), cmID("b"))
	if e.r.LastApplied() != "r1" {
		t.Fatalf("last applied = %q after a failed apply", e.r.LastApplied())
	}

	// Once the cause is gone the same revision applies and prunes.
	e.cluster.FailApply(cmID("a"), nil)
	res = e.pass()
	if !slices.Equal(res.Pruned(), []object.ID{cmID("b")}) || e.r.LastApplied() != "r2" {
		t.Fatalf("retry: pruned=%v last=%q", res.Pruned(), e.r.LastApplied())
	}
	e.wantValue("a", "2")
}

func TestEmptySetDoesNotPruneEverything(t *testing.T) {
	e := newEnv(t, reconcile.Options{Prune: true})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	e.pass()
	calls := len(e.cluster.Calls())

	e.src.Commit("r2", map[string]string{"README.md": "nothing to deploy"})
	_, err := e.fail()
	if !errors.Is(err, reconcile.ErrEmptySet) || reconcile.FailedStage(err) != reconcile.StagePrune {
		t.Fatalf("error = %v, want ErrEmptySet", err)
	}
	if got := e.cluster.Calls()[calls:]; len(got) != 0 {
		t.Fatalf("an empty set called %v", got)
	}
	e.wantObjects(cmID("a"))

	allow := newEnv(t, reconcile.Options{Prune: true, AllowEmpty: true})
	allow.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	allow.pass()
	allow.src.Commit("r2", nil)
	if res := allow.pass(); !slices.Equal(res.Pruned(), []object.ID{cmID("a")}) {
		t.Fatalf("AllowEmpty: pruned %v", res.Pruned())
	}
	allow.wantObjects()
}

func TestFailedStagesWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stage   reconcile.Stage
		breakIt func(e *env)
	}{
		{"source", reconcile.StageSource, func(e *env) { e.src.Fail(errors.New("connection refused")) }},
		{"diff", reconcile.StageDiff, func(e *env) { e.cluster.FailDiff(errors.New("list: forbidden")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, reconcile.Options{Prune: true, Mode: reconcile.SelfHeal})
			e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
			e.pass()
			e.src.Commit("r2", map[string]string{"a.yaml": configMap("a", "2")})
			tc.breakIt(e)
			calls := len(e.cluster.Calls())
			_, err := e.fail()
			if reconcile.FailedStage(err) != tc.stage {
				t.Fatalf("error %v: stage %q, want %q", err, reconcile.FailedStage(err), tc.stage)
			}
			for _, c := range e.cluster.Calls()[calls:] {
				if c == "apply" || c == "prune" {
					t.Fatalf("a failed %s stage called %s", tc.name, c)
				}
			}
			e.wantObjects(cmID("a"), cmID("b"))
			e.wantValue("a", "1")
		})
	}
}

func TestTransformsRunOnEveryPass(t *testing.T) {
	calls := 0
	label := reconcile.TransformFunc(func(_ context.Context, res *render.Result) error {
		calls++
		for _, m := range res.Manifests {
			if m.Object.GetLabels()["team"] != "" {
				return errors.New("transform saw its own output: the remembered render was changed")
			}
			m.Object.SetLabels(map[string]string{"team": "a"})
		}
		return nil
	})
	e := newEnv(t, reconcile.Options{Transforms: []reconcile.Transformer{label}})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	e.pass()
	res := e.pass()
	if calls != 2 || res.Rendered || !res.InSync() {
		t.Fatalf("transform calls=%d rendered=%v drift=%v", calls, res.Rendered, res.Drift)
	}
	if got := e.cluster.Get(cmID("a")).GetLabels()["team"]; got != "a" {
		t.Fatalf("label = %q", got)
	}

	bad := reconcile.TransformFunc(func(context.Context, *render.Result) error {
		return errors.New("ConfigMap/app/a (a.yaml:1): variable not set")
	})
	e2 := newEnv(t, reconcile.Options{Transforms: []reconcile.Transformer{bad}})
	e2.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	if _, err := e2.fail(); reconcile.FailedStage(err) != reconcile.StageTransform || len(e2.cluster.Calls()) != 0 {
		t.Fatalf("error = %v, calls = %v", err, e2.cluster.Calls())
	}
}

func TestHealthFailureIsReported(t *testing.T) {
	e := newEnv(t, reconcile.Options{Wait: true})
	e.cluster.SetHealth(cmID("a"), health.Status{Code: health.Degraded, Message: "bad"})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1")})
	res, err := e.fail()
	if reconcile.FailedStage(err) != reconcile.StageHealth || res.Health.Code != health.Degraded || !strings.Contains(res.Health.Message, "ConfigMap/app/a") {
		t.Fatalf("error=%v health=%v", err, res.Health)
	}
	// As Flux's lastAppliedRevision: a revision counts as applied once its set is
	// healthy, so the pass is tried again.
	if !res.Wrote || e.r.LastApplied() != "" {
		t.Fatalf("wrote=%v, last applied %q after an unhealthy pass, want none", res.Wrote, e.r.LastApplied())
	}
	e.cluster.SetHealth(cmID("a"), health.Status{Code: health.Healthy})
	if res := e.pass(); res.Wrote || e.r.LastApplied() != "r1" {
		t.Fatalf("once healthy: wrote=%v, last applied %q, want r1", res.Wrote, e.r.LastApplied())
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, reconcile.Options{Wait: true})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	e.pass()
	var got []string
	for _, ev := range e.events {
		switch ev.Kind {
		case reconcile.StageStarted:
			got = append(got, "start "+string(ev.Stage))
		case reconcile.StageFinished:
			got = append(got, "end "+string(ev.Stage))
		case reconcile.ObjectDone:
			got = append(got, string(ev.Object.Action)+" "+ev.Object.ID.Name)
		case reconcile.HealthChanged:
			got = append(got, string(ev.Health.Code)+" "+ev.ID.Name)
		}
	}
	want := []string{"start source", "end source", "start render", "end render", "start transform", "end transform",
		"start diff", "end diff", "start apply", "created a", "end apply", "start health", "Healthy a", "end health"}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n%v\nwant\n%v", got, want)
	}
}

func TestNewValidates(t *testing.T) {
	c := fake.NewCluster()
	for _, tc := range []struct {
		stages reconcile.Stages
		mode   reconcile.Mode
	}{
		{reconcile.Stages{Differ: c, Applier: c}, reconcile.Apply},
		{reconcile.Stages{Source: &fake.Source{}, Applier: c}, reconcile.Apply},
		{reconcile.Stages{Source: &fake.Source{}, Differ: c}, reconcile.SelfHeal},
		{reconcile.Stages{Source: &fake.Source{}, Differ: c, Applier: c}, reconcile.Mode(9)},
	} {
		if _, err := reconcile.New(tc.stages, reconcile.Options{Mode: tc.mode}); err == nil {
			t.Errorf("New(%+v, %s) succeeded", tc.stages, tc.mode)
		}
	}
	for _, m := range []reconcile.Mode{reconcile.Apply, reconcile.SelfHeal, reconcile.DriftOnly, reconcile.DryRun} {
		if got, err := reconcile.ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := reconcile.ParseMode("yolo"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
}

// A Reconciler told the revision a previous one applied (a restarted controller
// reading its status) does not apply that revision again in mode Apply for drift
// alone, and a new revision still applies.
func TestLastAppliedSurvivesARestart(t *testing.T) {
	e := newEnv(t, reconcile.Options{})
	e.src.Commit("r1", map[string]string{"a.yaml": configMap("a", "1")})
	e.pass()
	edited := e.cluster.Get(cmID("a"))
	_ = unstructured.SetNestedField(edited.Object, "edited", "data", "key")
	e.cluster.Edit(edited)

	restarted, err := reconcile.New(reconcile.Stages{Source: e.src, Differ: e.cluster, Applier: e.cluster, Health: e.cluster},
		reconcile.Options{LastApplied: e.r.LastApplied()})
	if err != nil {
		t.Fatal(err)
	}
	if restarted.LastApplied() != "r1" {
		t.Fatalf("last applied after a restart = %q, want r1", restarted.LastApplied())
	}
	res, err := restarted.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrote || res.NotApplied != reconcile.SkipAppliedRevision {
		t.Fatalf("wrote=%v note=%q, want the drift left alone", res.Wrote, res.NotApplied)
	}
	e.wantValue("a", "edited")

	e.src.Commit("r2", map[string]string{"a.yaml": configMap("a", "2")})
	if res, err := restarted.Reconcile(context.Background()); err != nil || !res.Wrote || restarted.LastApplied() != "r2" {
		t.Fatalf("new revision: wrote=%v last=%q err=%v", res.Wrote, restarted.LastApplied(), err)
	}
	e.wantValue("a", "2")
}
