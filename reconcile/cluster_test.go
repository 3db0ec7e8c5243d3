package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	code := cluster.Run(m)
	nodes.Stop() // started by the hook tests only
	os.Exit(code)
}

// gitEnv is a repository served over smart HTTP on loopback, a namespace, and a
// reconciler following the repository's main branch into the namespace.
type gitEnv struct {
	t        *testing.T
	repo     *gittest.Repo
	ns       string
	cs       *kubernetes.Clientset
	url      string
	renderer render.Renderer // nil: render.Auto
}

func newGitEnv(t *testing.T, files map[string]string) *gitEnv {
	t.Helper()
	cfg := cluster.Config(t)
	e := &gitEnv{t: t, ns: cluster.NewNamespace(t)}
	e.repo = gittest.NewRepo(t, "", "app.git")
	e.commit("initial", files)
	srv := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{})
	e.url = srv.URL + "/app.git"
	var err error
	if e.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *gitEnv) reconciler(mode reconcile.Mode) *reconcile.Reconciler {
	e.t.Helper()
	return e.reconcilerFor(cluster.Config(e.t), mode)
}

func (e *gitEnv) reconcilerFor(cfg *rest.Config, mode reconcile.Mode) *reconcile.Reconciler {
	e.t.Helper()
	return e.reconcilerWith(cfg, reconcile.Options{Mode: mode, Path: "deploy", Prune: true, Wait: true, HealthTimeout: time.Minute})
}

func (e *gitEnv) reconcilerWith(cfg *rest.Config, opts reconcile.Options) *reconcile.Reconciler {
	e.t.Helper()
	repo, err := git.New(git.Options{URL: e.url, Ref: git.Ref{Branch: "main"}, CacheDir: e.t.TempDir()})
	if err != nil {
		e.t.Fatal(err)
	}
	opts.Cluster = reconcile.ClusterOptions{FieldManager: "gitsync-test", Inventory: object.ID{Kind: "Secret", Namespace: e.ns, Name: "inventory"}, Force: true, Namespace: e.ns}
	rec, err := reconcile.NewForConfig(cfg, reconcile.Stages{Source: repo, Renderer: e.renderer}, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// commit commits files (in deploy/) and publishes them; "" deletes a file.
func (e *gitEnv) commit(msg string, files map[string]string) string {
	e.t.Helper()
	in := map[string]string{}
	for name, content := range files {
		if content == "" {
			content = gittest.Delete
		}
		in["deploy/"+name] = content
	}
	h := e.repo.Commit(msg, in)
	e.repo.Publish()
	return h
}

func (e *gitEnv) pass(rec *reconcile.Reconciler) *reconcile.Result {
	e.t.Helper()
	res, err := rec.Reconcile(context.Background())
	if err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (e *gitEnv) value(name string) string {
	e.t.Helper()
	cm, err := e.cs.CoreV1().ConfigMaps(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "<absent>"
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return cm.Data["key"]
}

// edit sets ConfigMap name's key to value as a manual `kubectl edit` would.
func (e *gitEnv) edit(name, value string) {
	e.t.Helper()
	ctx := context.Background()
	live, err := e.cs.CoreV1().ConfigMaps(e.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	live.Data["key"] = value
	if _, err := e.cs.CoreV1().ConfigMaps(e.ns).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		e.t.Fatal(err)
	}
}

func cm(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  key: \"" + value + "\"\n"
}

const service = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: 80
      targetPort: 8080
`

func TestGitLoop(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1"), "b.yaml": cm("b", "1"), "svc.yaml": service})
	rec := e.reconciler(reconcile.SelfHeal)
	ctx := context.Background()

	// First sync applies, and reports health.
	res := e.pass(rec)
	if len(res.Applied()) != 3 || res.Health.Code != health.Healthy || !strings.HasPrefix(res.Revision, "main@sha1:") {
		t.Fatalf("first sync: applied %v, health %v, revision %q", res.Applied(), res.Health, res.Revision)
	}

	// Steady state: no render, no write, no drift.
	res = e.pass(rec)
	if res.Rendered || res.Wrote || !res.InSync() || res.Health.Code != health.Healthy {
		t.Fatalf("steady state: rendered=%v wrote=%v drift=%v plan=%+v health=%v", res.Rendered, res.Wrote, res.Drift, res.Plan.Changed(), res.Health)
	}

	// A new commit is applied.
	e.commit("change a", map[string]string{"a.yaml": cm("a", "2")})
	res = e.pass(rec)
	if !slices.Equal(res.Applied(), []object.ID{{Kind: "ConfigMap", Namespace: e.ns, Name: "a"}}) || e.value("a") != "2" {
		t.Fatalf("commit: applied %v, a=%q", res.Applied(), e.value("a"))
	}

	// A manual edit is reported in drift-only mode and reverted in self-heal mode.
	e.edit("b", "edited")
	drift := e.reconciler(reconcile.DriftOnly)
	res = e.pass(drift)
	if len(res.Drift) != 1 || res.Drift[0].Name != "b" || res.Wrote || e.value("b") != "edited" {
		t.Fatalf("drift-only: drift %v, wrote %v, b=%q", res.Drift, res.Wrote, e.value("b"))
	}
	if c := res.Plan.Changed()[0]; c.Action != diff.Update || !slices.Contains(c.Paths, ".data.key") || c.Origin.File != "deploy/b.yaml" {
		t.Fatalf("drift change = %+v", c)
	}
	res = e.pass(rec)
	if len(res.Drift) != 1 || !res.Wrote || e.value("b") != "1" {
		t.Fatalf("self-heal: drift %v, wrote %v, b=%q", res.Drift, res.Wrote, e.value("b"))
	}

	// A removed file is pruned.
	e.commit("remove b", map[string]string{"b.yaml": ""})
	res = e.pass(rec)
	if len(res.Pruned()) != 1 || e.value("b") != "<absent>" {
		t.Fatalf("prune: pruned %v, b=%q", res.Pruned(), e.value("b"))
	}

	// A broken commit changes nothing and names the file.
	good := res.Revision
	e.commit("break a", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n", "svc.yaml": ""})
	res, err := rec.Reconcile(ctx)
	if reconcile.FailedStage(err) != reconcile.StageRender || !strings.Contains(err.Error(), "deploy/a.yaml") {
		t.Fatalf("broken commit: error %v, want a render error naming deploy/a.yaml", err)
	}
	if res.Wrote || res.Revision == good {
		t.Fatalf("broken commit: wrote=%v revision=%q", res.Wrote, res.Revision)
	}
	if _, err := e.cs.CoreV1().Services(e.ns).Get(ctx, "web", metav1.GetOptions{}); err != nil || e.value("a") != "2" {
		t.Fatalf("a broken commit changed the cluster: service err %v, a=%q", err, e.value("a"))
	}
	if rec.LastApplied() != good {
		t.Fatalf("last applied %q, want %q", rec.LastApplied(), good)
	}

	// Reverting the commit rolls back: the cluster is as before, nothing to do.
	e.repo.Git("revert", "--no-edit", "HEAD")
	e.repo.Publish()
	res = e.pass(rec)
	if !res.InSync() || res.Revision == good || e.value("a") != "2" {
		t.Fatalf("revert: drift %v, revision %q, a=%q", res.Drift, res.Revision, e.value("a"))
	}

	// Reverting the change of a rolls the cluster back to a=1.
	e.commit("back to 1", map[string]string{"a.yaml": cm("a", "1")})
	e.pass(rec)
	if e.value("a") != "1" {
		t.Fatalf("rollback: a=%q", e.value("a"))
	}
}

func TestEmptyCommitDoesNotPrune(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1")})
	rec := e.reconciler(reconcile.SelfHeal)
	e.pass(rec)
	e.commit("remove everything", map[string]string{"a.yaml": "", "README.md": "moved elsewhere"})
	_, err := rec.Reconcile(context.Background())
	if !errors.Is(err, reconcile.ErrEmptySet) {
		t.Fatalf("error = %v, want ErrEmptySet", err)
	}
	if e.value("a") != "1" {
		t.Fatalf("a = %q after an empty commit", e.value("a"))
	}
}

func TestFailedApplyDoesNotPrune(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1"), "b.yaml": cm("b", "1")})
	rec := e.reconciler(reconcile.SelfHeal)
	e.pass(rec)
	// b leaves the set while a new object is invalid: the server refuses it, so b
	// must stay.
	e.commit("bad", map[string]string{"b.yaml": "", "c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\ndata: {}\n"})
	res, err := rec.Reconcile(context.Background())
	if reconcile.FailedStage(err) != reconcile.StageApply || !strings.Contains(err.Error(), "deploy/c.yaml") {
		t.Fatalf("error = %v, want an apply error naming deploy/c.yaml", err)
	}
	if len(res.Pruned()) != 0 || e.value("b") != "1" {
		t.Fatalf("pruned %v, b=%q after a failed apply", res.Pruned(), e.value("b"))
	}
}

// fullLists counts the requests that list ConfigMaps with their content, not only
// their metadata.
type fullLists struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (f fullLists) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/configmaps") &&
		!strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadataList") {
		f.n.Add(1)
	}
	return f.next.RoundTrip(r)
}

// A pass that reuses the live copies and the plan of the last one still sees every
// change made to the cluster since: an edit, a deletion, and an edit undone.
func TestSteadyStateSeesChanges(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1"), "b.yaml": cm("b", "1")})
	e.pass(e.reconciler(reconcile.SelfHeal))
	ctx := context.Background()

	cfg := cluster.Config(t)
	full := &atomic.Int64{}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return fullLists{n: full, next: rt} }
	drift := e.reconcilerFor(cfg, reconcile.DriftOnly)
	check := func(step string, wantFull int64, want ...string) {
		t.Helper()
		full.Store(0)
		res := e.pass(drift)
		var got []string
		for _, c := range res.Plan.Changed() {
			got = append(got, c.Action.String()+" "+c.ID.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: changes %q, want %q", step, got, want)
		}
		if n := full.Load(); n != wantFull {
			t.Errorf("%s: %d full lists of ConfigMaps, want %d", step, n, wantFull)
		}
	}
	check("first pass", 1)
	check("steady state", 0)

	e.edit("b", "edited")
	check("after an edit", 1, "Update b")
	check("drift, unchanged", 0, "Update b")

	if err := e.cs.CoreV1().ConfigMaps(e.ns).Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	check("after a deletion", 0, "Create a", "Update b")

	e.edit("b", "1")
	check("after the edit is undone", 1, "Create a")
}

// A dry run reports each object once: the changed one as configured, the removed
// one as pruned, and writes nothing.
func TestDryRunReportsEachObjectOnce(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1"), "b.yaml": cm("b", "1")})
	e.pass(e.reconciler(reconcile.SelfHeal))
	e.commit("change a, remove b", map[string]string{"a.yaml": cm("a", "2"), "b.yaml": ""})
	res := e.pass(e.reconciler(reconcile.DryRun))
	var got []string
	for _, o := range res.Objects {
		if !o.DryRun {
			t.Errorf("%s: not a dry run", o.ID)
		}
		got = append(got, string(o.Action)+" "+o.ID.Name)
	}
	slices.Sort(got)
	if want := []string{"configured a", "pruned b"}; !slices.Equal(got, want) {
		t.Errorf("objects %q, want %q", got, want)
	}
	if e.value("a") != "1" || e.value("b") != "1" {
		t.Errorf("a dry run wrote: a=%q b=%q", e.value("a"), e.value("b"))
	}
}

// A cluster-scoped object declared with a namespace is named as the cluster names
// it: found in sync on the next passes, never pruned as if it had left the set,
// and still traced to its file.
func TestClusterScopedObjectDeclaredWithNamespace(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1")})
	name := "reader-" + e.ns[len(e.ns)-6:]
	t.Cleanup(func() { _ = e.cs.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	e.commit("add a cluster role", map[string]string{"role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n" +
		"metadata: {name: " + name + ", namespace: " + e.ns + "}\nrules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n"})
	rec := e.reconciler(reconcile.SelfHeal)
	id := object.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}
	for i := range 3 {
		res := e.pass(rec)
		if len(res.Pruned()) != 0 {
			t.Fatalf("pass %d pruned %v", i, res.Pruned())
		}
		if i > 0 && !res.InSync() {
			t.Fatalf("pass %d: drift %v, plan %+v", i, res.Drift, res.Plan.Changed())
		}
		if i == 0 {
			var found bool
			for _, c := range res.Plan.Changes {
				if c.ID == id {
					found = true
					if c.Origin.File != "deploy/role.yaml" {
						t.Errorf("origin of %s = %+v", id, c.Origin)
					}
				}
			}
			if !found {
				t.Errorf("plan has no change for %s: %+v", id, res.Plan.Changes)
			}
		}
		if _, err := e.cs.RbacV1().ClusterRoles().Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			t.Fatalf("pass %d: %v", i, err)
		}
	}
}

// A Namespace that leaves the set while it holds an object nobody in the set owns
// is kept and reported by a pass, and pruned by a pass that allows it.
func TestPruneNamespaceInUse(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1")})
	extra := e.ns + "-x"
	t.Cleanup(func() { _ = e.cs.CoreV1().Namespaces().Delete(context.Background(), extra, metav1.DeleteOptions{}) })
	e.commit("add a namespace", map[string]string{"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + extra + "}\n"})
	rec := e.reconciler(reconcile.SelfHeal)
	e.pass(rec)
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: extra}}
	if _, err := e.cs.CoreV1().ConfigMaps(extra).Create(context.Background(), foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.commit("remove the namespace", map[string]string{"ns.yaml": ""})
	id := object.ID{Kind: "Namespace", Name: extra}
	res := e.pass(rec)
	if len(res.Pruned()) != 0 {
		t.Fatalf("pruned %v", res.Pruned())
	}
	if got := res.Skipped(); !slices.Contains(got, id) {
		t.Fatalf("skipped %v, want %s", got, id)
	}
	for _, o := range res.Objects {
		if o.ID == id && !strings.Contains(o.Reason, "configmap/foreign") {
			t.Errorf("reason %q does not name what holds the namespace", o.Reason)
		}
	}
	ns, err := e.cs.CoreV1().Namespaces().Get(context.Background(), extra, metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil {
		t.Fatalf("namespace %s: %v, deleting %v", extra, err, ns.GetDeletionTimestamp())
	}

	allow := e.reconcilerWith(cluster.Config(t), reconcile.Options{Mode: reconcile.SelfHeal, Path: "deploy", Prune: true, AllowPruneInUse: true})
	res = e.pass(allow)
	if got := res.Pruned(); !slices.Equal(got, []object.ID{id}) {
		t.Fatalf("pruned %v, want %s", got, id)
	}
}

// A list the credentials may not read fails the diff with an error naming the
// objects it was for, not only their resource type as the API server's
// Forbidden does.
func TestForbiddenListNamesItsObjects(t *testing.T) {
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1"), "b.yaml": cm("b", "1")})
	nobody := rest.CopyConfig(cluster.Config(t))
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "nobody"}
	rec := e.reconcilerWith(nobody, reconcile.Options{Mode: reconcile.SelfHeal, Path: "deploy"})
	_, err := rec.Reconcile(context.Background())
	if reconcile.FailedStage(err) != reconcile.StageDiff || !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), "for /ConfigMap/"+e.ns+"/a, /ConfigMap/"+e.ns+"/b: ") {
		t.Fatalf("error = %v, want a forbidden diff naming both ConfigMaps", err)
	}
}

// Diff leaves the caller's objects as they were: the membership labels and the
// namespace a cluster-scoped object loses are set on copies.
func TestClusterDiffLeavesDesiredAlone(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := reconcile.NewCluster(clients, reconcile.ClusterOptions{Inventory: object.ID{Kind: "Secret", Namespace: ns, Name: "inv"}})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := object.Decode(strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: "+ns+", labels: {app: a}}\n---\n"+
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: "+ns+"-reader, namespace: "+ns+"}\n"), "app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	desired := object.Objects(ms)
	before := []string{fmt.Sprint(desired[0].Object), fmt.Sprint(desired[1].Object)}
	plan, err := c.Diff(context.Background(), desired)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Counts.Create != 2 {
		t.Errorf("plan %+v, want two creates", plan.Changes)
	}
	for i, u := range desired {
		if got := fmt.Sprint(u.Object); got != before[i] {
			t.Errorf("Diff changed desired object %d:\n%s\nwas\n%s", i, got, before[i])
		}
	}
}
