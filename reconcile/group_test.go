package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
)

// step is a Runner for the scheduling logic alone: it records when it ran and
// returns what it is told.
type step struct {
	name    string
	log     *runLog
	health  health.Code
	err     error
	hold    time.Duration
	started atomic.Int32
}

type runLog struct {
	mu       sync.Mutex
	order    []string
	inFlight int
	maxSeen  int
}

func (s *step) Reconcile(context.Context) (*reconcile.Result, error) {
	s.started.Add(1)
	s.log.mu.Lock()
	s.log.order = append(s.log.order, s.name)
	s.log.inFlight++
	s.log.maxSeen = max(s.log.maxSeen, s.log.inFlight)
	s.log.mu.Unlock()
	time.Sleep(s.hold)
	s.log.mu.Lock()
	s.log.inFlight--
	s.log.mu.Unlock()
	return &reconcile.Result{Health: health.Status{Code: s.health}}, s.err
}

func TestGroupRunsDependenciesFirst(t *testing.T) {
	l := &runLog{}
	mk := func(name string) *step {
		return &step{name: name, log: l, health: health.Healthy, hold: 5 * time.Millisecond}
	}
	crds, infra, app, other := mk("crds"), mk("infra"), mk("app"), mk("other")
	empty, err := reconcile.NewGroup(nil, reconcile.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := empty.Reconcile(context.Background()); err != nil || len(res) != 0 {
		t.Fatalf("empty group: %v, %v", res, err)
	}
	var done []string
	g, err := reconcile.NewGroup([]reconcile.Set{
		{Name: "app", Runner: app, DependsOn: []string{"infra", "crds"}},
		{Name: "infra", Runner: infra, DependsOn: []string{"crds"}},
		{Name: "crds", Runner: crds},
		{Name: "other", Runner: other},
	}, reconcile.GroupOptions{Concurrency: 2, OnSetDone: func(r reconcile.SetResult) { done = append(done, r.Name) }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pos := func(name string) int { return slices.Index(l.order, name) }
	if pos("crds") > pos("infra") || pos("infra") > pos("app") {
		t.Fatalf("order %v: a set ran before its dependency", l.order)
	}
	if l.maxSeen > 2 {
		t.Fatalf("%d passes in flight, Concurrency is 2", l.maxSeen)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.Name)
		if !r.Ready() || r.Duration <= 0 {
			t.Fatalf("%s: ready %v, duration %v", r.Name, r.Ready(), r.Duration)
		}
	}
	if !slices.Equal(names, []string{"app", "infra", "crds", "other"}) || len(done) != 4 {
		t.Fatalf("results %v (in the order given), reported %v", names, done)
	}
}

func TestGroupBlocksDependentsOfFailedOrUnhealthySets(t *testing.T) {
	l := &runLog{}
	failed := &step{name: "db", log: l, err: errors.New("apply failed")}
	progressing := &step{name: "cache", log: l, health: health.Progressing}
	web := &step{name: "web", log: l, health: health.Healthy}
	front := &step{name: "front", log: l, health: health.Healthy}
	worker := &step{name: "worker", log: l, health: health.Healthy}
	g, err := reconcile.NewGroup([]reconcile.Set{
		{Name: "db", Runner: failed},
		{Name: "cache", Runner: progressing},
		{Name: "web", Runner: web, DependsOn: []string{"db"}},
		{Name: "front", Runner: front, DependsOn: []string{"web"}},
		{Name: "worker", Runner: worker, DependsOn: []string{"cache"}},
	}, reconcile.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Reconcile(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []*step{web, front, worker} {
		if s.started.Load() != 0 {
			t.Errorf("%s ran although a dependency was not ready", s.name)
		}
	}
	want := map[string]string{
		"web":    "set web: waiting for db: its pass failed: apply failed",
		"front":  "set front: waiting for web: it is waiting for db",
		"worker": "set worker: waiting for cache: it is Progressing",
	}
	for _, r := range res {
		var blocked *reconcile.BlockedError
		if w, ok := want[r.Name]; ok {
			if !errors.As(r.Err, &blocked) || r.Err.Error() != w || r.Result != nil {
				t.Errorf("%s: %v, want %q", r.Name, r.Err, w)
			}
		}
	}
	for _, w := range []string{"set db: apply failed", want["front"]} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("joined error %q lacks %q", err, w)
		}
	}
}

func TestNewGroupRefusesBadGraphs(t *testing.T) {
	r := &step{log: &runLog{}}
	for name, tc := range map[string]struct {
		sets []reconcile.Set
		want string
	}{
		"cycle": {[]reconcile.Set{
			{Name: "a", Runner: r, DependsOn: []string{"b"}},
			{Name: "b", Runner: r, DependsOn: []string{"c"}},
			{Name: "c", Runner: r, DependsOn: []string{"a"}},
		}, "set dependency cycle: a -> b -> c -> a"},
		"self":      {[]reconcile.Set{{Name: "a", Runner: r, DependsOn: []string{"a"}}}, "set dependency cycle: a -> a"},
		"unknown":   {[]reconcile.Set{{Name: "a", Runner: r, DependsOn: []string{"nope"}}}, "set a depends on nope, which is not in the group"},
		"duplicate": {[]reconcile.Set{{Name: "a", Runner: r}, {Name: "a", Runner: r}}, "set a is declared twice"},
		"no name":   {[]reconcile.Set{{Runner: r}}, "set 0 has no name"},
		"no runner": {[]reconcile.Set{{Name: "a"}}, "set a has no runner"},
	} {
		_, err := reconcile.NewGroup(tc.sets, reconcile.GroupOptions{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		var cycle *reconcile.SetCycleError
		if strings.Contains(tc.want, "cycle") && !errors.As(err, &cycle) {
			t.Errorf("%s: not a *SetCycleError", name)
		}
	}
}

func TestGroupStopsSetsNotStartedWhenCancelled(t *testing.T) {
	l := &runLog{}
	first := &step{name: "first", log: l, health: health.Healthy}
	second := &step{name: "second", log: l, health: health.Healthy}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g, err := reconcile.NewGroup([]reconcile.Set{{Name: "first", Runner: first}, {Name: "second", Runner: second, DependsOn: []string{"first"}}},
		reconcile.GroupOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Reconcile(ctx)
	if !errors.Is(err, context.Canceled) && !strings.Contains(fmt.Sprint(err), "waiting for first") {
		t.Fatalf("err = %v", err)
	}
	if second.started.Load() != 0 || res[1].Result != nil {
		t.Fatal("a dependent ran after the group's context was cancelled")
	}
}

// Two real sets, as a platform repository splits them: one installs a CRD, the
// other declares resources of its kind. Alone, the second fails on a fresh
// cluster (its kind is not served); in a group it runs after the first, which
// waits for the CRD to be established.
func TestGroupAppliesCRDSetBeforeItsResources(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	group := strings.ReplaceAll(ns, "-", "") + ".example.com"
	dir := t.TempDir()
	testtool.WriteFiles(t, dir, map[string]string{
		"crds/widget.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.` + group + `}
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
		"widgets/w.yaml": "apiVersion: " + group + "/v1\nkind: Widget\nmetadata: {name: w, namespace: " + ns + "}\nspec: {size: 3}\n",
	})
	newSet := func(path string) *reconcile.Reconciler {
		r, err := reconcile.NewForConfig(cfg, reconcile.Stages{Source: source.Local{Dir: dir}},
			reconcile.Options{Path: path, Prune: true, Wait: true, HealthTimeout: time.Minute,
				Cluster: reconcile.ClusterOptions{FieldManager: "group-test", Inventory: object.ID{Kind: "Secret", Namespace: ns, Name: path}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	g, err := reconcile.NewGroup([]reconcile.Set{
		{Name: "widgets", Runner: newSet("widgets"), DependsOn: []string{"crds"}},
		{Name: "crds", Runner: newSet("crds")},
	}, reconcile.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%s: applied %v, health %s, %v", r.Name, r.Result.Applied(), r.Result.Health.Code, r.Duration.Round(time.Millisecond))
		if !r.Ready() || len(r.Result.Applied()) != 1 {
			t.Fatalf("%s: ready %v, applied %v", r.Name, r.Ready(), r.Result.Applied())
		}
	}
}
