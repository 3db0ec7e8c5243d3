package snippets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/reconcile/fake"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// snippet: reconcile-new
// NewReconciler keeps the cluster of cfg equal to the directory deploy of the
// branch main of the Git repository url, in namespace ns, recording the set in an
// ApplySet whose parent is the Secret ns/my-agent.
func NewReconciler(cfg *rest.Config, url, cacheDir, ns string, mode reconcile.Mode) (*reconcile.Reconciler, error) {
	repo, err := git.New(git.Options{URL: url, Ref: git.Ref{Branch: "main"}, CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	return reconcile.NewForConfig(cfg,
		// Renderer nil: render.Auto, plain YAML only. Differ, Applier and Health
		// nil: a reconcile.Cluster for cfg.
		reconcile.Stages{Source: repo},
		reconcile.Options{
			Cluster: reconcile.ClusterOptions{
				FieldManager: "my-agent",
				Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: "my-agent"}, // zero ID: no prune
				Force:        true,                                                       // the apply may take fields a manual edit took
				ServerDiff:   false,                                                      // true: one server-side dry run per object instead of the offline engine
				Namespace:    ns,                                                         // for namespaced objects that declare none
			},
			Mode:          mode,
			Path:          "deploy",
			Prune:         true,
			Wait:          true, // after a pass that wrote, wait for health
			HealthTimeout: 2 * time.Minute,
		})
}

// end snippet

// snippet: reconcile-report
// Report prints what a pass found and did. A failed pass has a Result too, filled up
// to the stage that failed.
func Report(w io.Writer, res *reconcile.Result, err error) {
	fmt.Fprintf(w, "%s %s: rendered=%v desired=%d drift=%d wrote=%v\n",
		res.Mode, res.Revision, res.Rendered, res.Desired, len(res.Drift), res.Wrote)
	for _, c := range res.Plan.Changed() { // Create, Update or Delete
		fmt.Fprintf(w, "  plan %s %s %s %v\n", c.Action, c.ID, c.Origin, c.Paths)
	}
	for _, o := range res.Objects { // created, configured, unchanged, recreated, pruned, skipped, failed
		fmt.Fprintf(w, "  %s %s dry-run=%v %s\n", o.Action, o.ID, o.DryRun, o.Reason)
	}
	if res.NotApplied != "" {
		fmt.Fprintf(w, "  not applied: %s\n", res.NotApplied) // reconcile.SkipInSync, SkipDriftOnly, ...
	}
	if res.Health.Code != "" {
		fmt.Fprintf(w, "  health: %s\n", res.Health)
	}
	for _, s := range []reconcile.Stage{reconcile.StageSource, reconcile.StageRender, reconcile.StageTransform,
		reconcile.StageDiff, reconcile.StageApply, reconcile.StagePrune, reconcile.StageHealth} {
		if d, ok := res.Durations[s]; ok { // only the stages that ran
			fmt.Fprintf(w, "  %s took %v\n", s, d.Round(time.Millisecond))
		}
	}
	if err != nil {
		fmt.Fprintf(w, "  failed in %s: %v\n", reconcile.FailedStage(err), err)
	}
}

// end snippet

// guideRepo is a Git repository served over smart HTTP on loopback whose deploy/
// directory a reconciler follows.
type guideRepo struct {
	t    *testing.T
	repo *gittest.Repo
	url  string
}

func newGuideRepo(t *testing.T, files map[string]string) *guideRepo {
	t.Helper()
	r := &guideRepo{t: t, repo: gittest.NewRepo(t, "", "apps.git")}
	r.commit(files)
	srv := gittest.NewHTTPServer(t, r.repo.Root, gittest.HTTPOptions{})
	r.url = srv.URL + "/" + r.repo.Name
	return r
}

// commit commits files under deploy/ and publishes them; gittest.Delete removes a
// file.
func (r *guideRepo) commit(files map[string]string) {
	r.t.Helper()
	in := map[string]string{}
	for name, content := range files {
		in["deploy/"+name] = content
	}
	r.repo.Commit("change", in)
	r.repo.Publish()
}

// editByHand changes the key of the ConfigMap ns/name as `kubectl edit` would.
func editByHand(t *testing.T, cfg *rest.Config, ns, name string) {
	t.Helper()
	ctx := context.Background()
	cms := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(ns)
	live, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live.Data["key"] = "edited"
	if _, err := cms.Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
}

func (r *guideRepo) reconciler(cfg *rest.Config, ns string, mode reconcile.Mode) *reconcile.Reconciler {
	r.t.Helper()
	rec, err := NewReconciler(cfg, r.url, r.t.TempDir(), ns, mode)
	if err != nil {
		r.t.Fatal(err)
	}
	return rec
}

// pass runs a pass and returns its report and error.
func pass(t *testing.T, rec *reconcile.Reconciler) (string, error) {
	t.Helper()
	var b bytes.Buffer
	res, err := rec.Reconcile(context.Background())
	Report(&b, res, err)
	return b.String(), err
}

// wantReport fails unless report holds every line of want.
func wantReport(t *testing.T, step, report string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("%s: the report lacks %q:\n%s", step, w, report)
		}
	}
}

func guideConfigMap(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\ndata: {key: \"" + value + "\"}\n"
}

// The modes as the guide describes them, against a real API server and a Git
// server on loopback.
func TestReconcileModes(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	cms := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(ns)
	value := func(name string) string {
		t.Helper()
		cm, err := cms.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		return cm.Data["key"]
	}
	repo := newGuideRepo(t, map[string]string{"a.yaml": guideConfigMap("a", "1"), "b.yaml": guideConfigMap("b", "1")})
	a, b := "/ConfigMap/"+ns+"/a", "/ConfigMap/"+ns+"/b"

	applier := repo.reconciler(cfg, ns, reconcile.Apply)
	out, err := pass(t, applier)
	if err != nil {
		t.Fatal(err)
	}
	wantReport(t, "first pass", out, "apply main@sha1:", "rendered=true desired=2 drift=2 wrote=true",
		"plan Create "+a+" deploy/a.yaml:1 []", "created "+b+" dry-run=false", "health: Healthy", "render took")

	out, _ = pass(t, applier)
	wantReport(t, "steady pass", out, "rendered=false desired=2 drift=0 wrote=false", "not applied: in sync")

	// A manual edit: Apply and DriftOnly report it, SelfHeal reverts it.
	editByHand(t, cfg, ns, "b")
	out, _ = pass(t, applier)
	wantReport(t, "apply mode, drift", out, "drift=1 wrote=false", "plan Update "+b+" deploy/b.yaml:1 [.data.key]",
		"not applied: drift at an applied revision (mode apply)")
	out, _ = pass(t, repo.reconciler(cfg, ns, reconcile.DriftOnly))
	wantReport(t, "drift-only", out, "drift=1 wrote=false", "not applied: mode drift-only")
	if value("b") != "edited" {
		t.Fatalf("b = %q: a pass that must not write reverted the edit", value("b"))
	}
	healer := repo.reconciler(cfg, ns, reconcile.SelfHeal)
	out, _ = pass(t, healer)
	wantReport(t, "self-heal", out, "drift=1 wrote=true", "configured "+b+" dry-run=false")
	if value("b") != "1" {
		t.Fatalf("b = %q after self-heal, want 1", value("b"))
	}

	// A new revision in DryRun: what would happen, nothing written.
	repo.commit(map[string]string{"a.yaml": guideConfigMap("a", "2"), "b.yaml": gittest.Delete})
	out, _ = pass(t, repo.reconciler(cfg, ns, reconcile.DryRun))
	wantReport(t, "dry run", out, "drift=2 wrote=false", "plan Delete "+b, "configured "+a+" dry-run=true", "pruned "+b+" dry-run=true")
	if value("a") != "1" || value("b") != "1" {
		t.Fatalf("a dry run wrote: a=%q b=%q", value("a"), value("b"))
	}
	out, _ = pass(t, healer)
	wantReport(t, "new revision", out, "configured "+a, "pruned "+b)

	// A broken commit fails in render and writes nothing.
	repo.commit(map[string]string{"a.yaml": "kind: [broken"})
	out, err = pass(t, healer)
	if reconcile.FailedStage(err) != reconcile.StageRender {
		t.Fatalf("broken commit: %v", err)
	}
	wantReport(t, "broken commit", out, "failed in render: reconcile main@sha1:", "deploy/a.yaml:1")
	if value("a") != "2" {
		t.Fatalf("a = %q after a broken commit", value("a"))
	}

	// An emptied directory is refused before anything is written.
	repo.commit(map[string]string{"a.yaml": gittest.Delete, "README.md": "moved elsewhere"})
	if _, err = healer.Reconcile(ctx); !errors.Is(err, reconcile.ErrEmptySet) {
		t.Fatalf("empty set: %v, want ErrEmptySet", err)
	}
	if value("a") != "2" {
		t.Fatalf("a = %q after an empty commit", value("a"))
	}
}

// Without Force, a field a manual edit took is drift in every mode; applying it
// fails with a conflict naming the field and its manager, and changes nothing.
func TestReconcileWithoutForce(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	repo := newGuideRepo(t, map[string]string{"a.yaml": guideConfigMap("a", "1")})
	if _, err := pass(t, repo.reconciler(cfg, ns, reconcile.Apply)); err != nil {
		t.Fatal(err)
	}
	editByHand(t, cfg, ns, "a")
	withoutForce := func(mode reconcile.Mode) *reconcile.Reconciler {
		repoSource, err := git.New(git.Options{URL: repo.url, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := reconcile.NewForConfig(cfg, reconcile.Stages{Source: repoSource},
			reconcile.Options{Cluster: reconcile.ClusterOptions{FieldManager: "my-agent", Inventory: object.ID{Kind: "Secret", Namespace: ns, Name: "my-agent"}, Namespace: ns}, Mode: mode, Path: "deploy"})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	res, err := withoutForce(reconcile.DriftOnly).Reconcile(ctx)
	if err != nil || len(res.Drift) != 1 || res.Drift[0].Name != "a" {
		t.Fatalf("drift-only without Force: drift %v, error %v; want a reported", res.Drift, err)
	}
	res, err = withoutForce(reconcile.SelfHeal).Reconcile(ctx)
	if reconcile.FailedStage(err) != reconcile.StageApply || !strings.Contains(err.Error(), "kubectl-edit") {
		t.Fatalf("self-heal without Force: %v, want a conflict in the apply stage naming kubectl-edit", err)
	}
	if res.Wrote {
		t.Fatal("self-heal without Force wrote")
	}
}

// snippet: reconcile-requests
// Counting returns a copy of cfg whose clients call count before every request.
func Counting(cfg *rest.Config, count func(*http.Request)) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			count(r)
			return next.RoundTrip(r)
		})
	})
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// end snippet

// A steady pass costs one metadata-only list per resource type and namespace and
// the GET of the inventory's parent, as the guide says.
func TestSteadyPassRequests(t *testing.T) {
	ns1, ns2 := cluster.NewNamespace(t), cluster.NewNamespace(t)
	files := map[string]string{}
	for _, ns := range []string{ns1, ns2} {
		for i := range 3 {
			name := fmt.Sprintf("%s-%d", ns, i)
			files[name+"-cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c" + name + ", namespace: " + ns + "}\ndata: {key: v}\n"
			files[name+"-svc.yaml"] = "apiVersion: v1\nkind: Service\nmetadata: {name: s" + name + ", namespace: " + ns + "}\n" +
				"spec: {clusterIP: None, ports: [{port: 80}]}\n"
		}
	}
	repo := newGuideRepo(t, files)
	var (
		mu       sync.Mutex
		requests []string
	)
	cfg := Counting(cluster.Config(t), func(r *http.Request) {
		kind := "other"
		if strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadataList") {
			kind = "metadata-list"
		}
		mu.Lock()
		defer mu.Unlock()
		requests = append(requests, r.Method+" "+kind+" "+r.URL.Path)
	})
	rec := repo.reconciler(cfg, ns1, reconcile.SelfHeal)
	for range 2 { // the first pass writes; the second reads the live objects again
		if _, err := rec.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	requests = nil
	mu.Unlock()
	res, err := rec.Reconcile(context.Background())
	if err != nil || res.Rendered || !res.InSync() || res.Durations[reconcile.StageApply] != 0 {
		t.Fatalf("steady pass: %+v, %v", res, err)
	}
	slices.Sort(requests)
	want := []string{
		"GET metadata-list /api/v1/namespaces/" + ns1 + "/configmaps",
		"GET metadata-list /api/v1/namespaces/" + ns1 + "/services",
		"GET metadata-list /api/v1/namespaces/" + ns2 + "/configmaps",
		"GET metadata-list /api/v1/namespaces/" + ns2 + "/services",
		"GET other /api/v1/namespaces/" + ns1 + "/secrets/my-agent",
	}
	slices.Sort(want)
	if !slices.Equal(requests, want) {
		t.Fatalf("a steady pass over 12 objects sent\n%s\nwant\n%s", strings.Join(requests, "\n"), strings.Join(want, "\n"))
	}
}

// snippet: reconcile-fake
func TestReportFailedApply(t *testing.T) {
	src, c := &fake.Source{}, fake.NewCluster()
	rec, err := reconcile.New(reconcile.Stages{Source: src, Differ: c, Applier: c, Health: c},
		reconcile.Options{Mode: reconcile.SelfHeal, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: demo}\n"
	}
	src.Commit("main@sha1:1", map[string]string{"a.yaml": cm("a"), "b.yaml": cm("b")})
	if _, err := rec.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The next commit removes b and adds c, which the cluster refuses.
	src.Commit("main@sha1:2", map[string]string{"a.yaml": cm("a"), "c.yaml": cm("c")})
	c.FailApply(object.ID{Kind: "ConfigMap", Namespace: "demo", Name: "c"}, errors.New("denied by a webhook"))
	var out bytes.Buffer
	res, err := rec.Reconcile(context.Background())
	Report(&out, res, err)

	for _, want := range []string{"failed /ConfigMap/demo/c", "failed in apply:", "c.yaml:1", "denied by a webhook"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	if c.Get(object.ID{Kind: "ConfigMap", Namespace: "demo", Name: "b"}) == nil {
		t.Error("b was pruned after a failed apply")
	}
	if got := c.Calls(); !slices.Equal(got, []string{"diff", "apply", "health", "diff", "apply"}) {
		t.Errorf("stages called: %v", got) // no prune, no health after the failure
	}
}

// end snippet

// snippet: reconcile-group
// ReconcileInOrder reconciles three sets of one repository in dependency order:
// the CRDs, then the infrastructure that uses them, then the apps.
func ReconcileInOrder(ctx context.Context, crds, infra, apps reconcile.Runner) ([]reconcile.SetResult, error) {
	g, err := reconcile.NewGroup([]reconcile.Set{
		{Name: "crds", Runner: crds},
		{Name: "infrastructure", Runner: infra, DependsOn: []string{"crds"}},
		{Name: "apps", Runner: apps, DependsOn: []string{"infrastructure"}},
	}, reconcile.GroupOptions{Concurrency: 8})
	if err != nil {
		return nil, err
	}
	return g.Reconcile(ctx) // one reconcile.SetResult per set, in the order given
}

// end snippet

func TestReconcileInOrder(t *testing.T) {
	src, c := &fake.Source{}, fake.NewCluster()
	src.Commit("r1", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: app}\n"})
	newSet := func() *reconcile.Reconciler {
		r, err := reconcile.New(reconcile.Stages{Source: src, Differ: c, Applier: c, Health: c}, reconcile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	res, err := ReconcileInOrder(context.Background(), newSet(), newSet(), newSet())
	if err != nil || len(res) != 3 || !res[2].Ready() || res[2].Name != "apps" {
		t.Fatalf("results %+v, %v", res, err)
	}
}
