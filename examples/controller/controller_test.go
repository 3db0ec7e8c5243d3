package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/retry"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// startManager runs the controller in process, limited to namespaces, until the
// test ends or stop is called.
func startManager(t *testing.T, cfg *rest.Config, o options, namespaces ...string) (stop func()) {
	t.Helper()
	o.metricsAddr, o.probeAddr = "0", "0"
	if o.cacheDir == "" {
		o.cacheDir = t.TempDir()
	}
	if o.fieldManager == "" {
		o.fieldManager = "gitsync-controller"
	}
	if o.healthPoll == 0 {
		o.healthPoll = 200 * time.Millisecond
	}
	o.namespaces = namespaces
	mgr, err := newManager(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	done := false
	stop = func() {
		if done {
			return
		}
		done = true
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// newClient returns a client that reads around any cache, so that a read after
// a write sees it.
func newClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func configMapYAML(namespace, name string) string {
	meta := "  name: " + name + "\n"
	if namespace != "" {
		meta += "  namespace: " + namespace + "\n"
	}
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" + meta + "data:\n  color: blue\n"
}

// serveRepo commits files to a new repository served over smart HTTP and
// returns its URL and the revision of the commit.
func serveRepo(t *testing.T, files map[string]string) (*gittest.Repo, string, string) {
	t.Helper()
	r := gittest.NewRepo(t, "", "apps.git")
	sha := r.Commit("first", files)
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	return r, srv.URL + "/" + r.Name, "main@sha1:" + sha
}

func newGitSync(ns, name, url, path string, prune bool) *v1alpha1.GitSync {
	return &v1alpha1.GitSync{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.GitSyncSpec{
			URL: url, Ref: v1alpha1.GitRef{Branch: "main"}, Path: path,
			Interval: metav1.Duration{Duration: time.Second}, Prune: prune,
		},
	}
}

// create creates gs and returns its key.
func create(t *testing.T, c client.Client, gs *v1alpha1.GitSync) types.NamespacedName {
	t.Helper()
	if err := c.Create(context.Background(), gs); err != nil {
		t.Fatal(err)
	}
	return client.ObjectKeyFromObject(gs)
}

// readyIs returns a check that Ready has status and reason and its message holds
// each of parts.
func readyIs(status metav1.ConditionStatus, reason string, parts ...string) func(v1alpha1.GitSyncStatus) bool {
	return func(s v1alpha1.GitSyncStatus) bool {
		c := condition(s, v1alpha1.ConditionReady)
		if c.Status != status || c.Reason != reason {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(c.Message, p) {
				return false
			}
		}
		return true
	}
}

func waitGone(t *testing.T, c client.Client, key types.NamespacedName, obj client.Object) {
	t.Helper()
	var last error
	waitFor(t, "gone: "+key.String(), func() bool {
		last = c.Get(context.Background(), key, obj)
		return apierrors.IsNotFound(last)
	}, func() { t.Logf("last get: %v, %+v", last, obj) })
}

// eventNotes returns the notes of the events about a GitSync with reason.
func eventNotes(t *testing.T, c client.Client, ns, name, reason string) []string {
	t.Helper()
	var events eventsv1.EventList
	if err := c.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events.Items {
		if e.Regarding.Kind == "GitSync" && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

func exists(t *testing.T, c client.Client, key types.NamespacedName, obj client.Object) bool {
	t.Helper()
	err := c.Get(context.Background(), key, obj)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// Deleting a GitSync runs its finalizer: with prune it deletes what it applied
// (every inventory member, in reverse apply order) and its inventory; without
// prune it leaves the objects; one that never reached the cluster goes at once.
func TestFinalizer(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)
	startManager(t, cfg, options{}, ns)
	c := newClient(t, cfg)
	ctx := context.Background()

	app := ns + "-app"
	_, url, _ := serveRepo(t, map[string]string{
		"prune/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + app + "\n",
		"prune/a.yaml":  configMapYAML(app, "a"),
		"prune/b.yaml":  configMapYAML("", "b"),
		"orphan/c.yaml": configMapYAML("", "c"),
	})
	deleteSynced := func(gs *v1alpha1.GitSync) {
		t.Helper()
		key := client.ObjectKeyFromObject(gs)
		if err := c.Create(ctx, gs); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, c, key, gs.Name+" applied", readyIs(metav1.ConditionTrue, "Succeeded"))
		if err := c.Get(ctx, key, gs); err != nil {
			t.Fatal(err)
		}
		if !controllerutil.ContainsFinalizer(gs, v1alpha1.Finalizer) {
			t.Fatalf("finalizers = %v, want %s", gs.Finalizers, v1alpha1.Finalizer)
		}
		if !exists(t, c, types.NamespacedName{Namespace: ns, Name: "gitsync-" + gs.Name}, &corev1.ConfigMap{}) {
			t.Fatalf("no inventory ConfigMap gitsync-%s", gs.Name)
		}
		if err := c.Delete(ctx, gs); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, key, &v1alpha1.GitSync{})
		if exists(t, c, types.NamespacedName{Namespace: ns, Name: "gitsync-" + gs.Name}, &corev1.ConfigMap{}) {
			t.Errorf("the inventory ConfigMap gitsync-%s outlived its GitSync", gs.Name)
		}
	}

	t.Run("prune", func(t *testing.T) {
		deleteSynced(newGitSync(ns, "pruned", url, "prune", true))
		for _, key := range []types.NamespacedName{{Namespace: app, Name: "a"}, {Namespace: ns, Name: "b"}} {
			if exists(t, c, key, &corev1.ConfigMap{}) {
				t.Errorf("ConfigMap %s not pruned", key)
			}
		}
		// Without a namespace controller a deleted Namespace stays Terminating.
		var n corev1.Namespace
		if exists(t, c, types.NamespacedName{Name: app}, &n) && n.DeletionTimestamp == nil {
			t.Errorf("Namespace %s not pruned", app)
		}
		// Reverse apply order: the ConfigMaps (deleted concurrently), then the
		// Namespace.
		notes := eventNotes(t, c, ns, "pruned", "Pruned")
		if len(notes) != 1 || !strings.HasPrefix(notes[0], "deleted: 3 objects pruned, in order: ") ||
			!strings.Contains(notes[0], "configmap/a -n "+app) || !strings.Contains(notes[0], "configmap/b -n "+ns) ||
			!strings.HasSuffix(notes[0], ", namespace/"+app) {
			t.Errorf("Pruned events = %q, want the ConfigMaps then the Namespace", notes)
		}
		t.Logf("event Pruned: %q", notes)
	})

	t.Run("orphan", func(t *testing.T) {
		deleteSynced(newGitSync(ns, "orphaned", url, "orphan", false))
		var cm corev1.ConfigMap
		if !exists(t, c, types.NamespacedName{Namespace: ns, Name: "c"}, &cm) || cm.DeletionTimestamp != nil {
			t.Errorf("ConfigMap c was deleted without spec.prune")
		}
		if notes := eventNotes(t, c, ns, "orphaned", "Orphaned"); len(notes) != 1 {
			t.Errorf("Orphaned events = %q, want one", notes)
		}
	})

	t.Run("never applied", func(t *testing.T) {
		gs := newGitSync(ns, "unreachable", "http://127.0.0.1:1/nothing.git", "", true)
		key := client.ObjectKeyFromObject(gs)
		if err := c.Create(ctx, gs); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, c, key, "fetch failed", readyIs(metav1.ConditionFalse, "SourceFailed"))
		if err := c.Get(ctx, key, gs); err != nil {
			t.Fatal(err)
		}
		if !controllerutil.ContainsFinalizer(gs, v1alpha1.Finalizer) {
			t.Fatalf("finalizers = %v, want %s", gs.Finalizers, v1alpha1.Finalizer)
		}
		if err := c.Delete(ctx, gs); err != nil {
			t.Fatal(err)
		}
		waitGone(t, c, key, &v1alpha1.GitSync{})
		if notes := eventNotes(t, c, ns, "unreachable", "Pruned"); len(notes) != 0 {
			t.Errorf("Pruned events for a GitSync that never applied: %q", notes)
		}
	})
}

// A restarted controller reads lastAppliedRevision back and applies nothing for
// a revision already applied and in sync; a first pass that fails after the
// restart keeps the recorded revision.
func TestRestartDoesNotApplyAgain(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)
	c := newClient(t, cfg)
	ctx := context.Background()
	r, url, rev := serveRepo(t, map[string]string{"deploy/a.yaml": configMapYAML("", "a")})

	stop := startManager(t, cfg, options{}, ns)
	gs := newGitSync(ns, "apps", url, "deploy", true)
	key := client.ObjectKeyFromObject(gs)
	if err := c.Create(ctx, gs); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, key, "applied", func(s v1alpha1.GitSyncStatus) bool {
		return readyIs(metav1.ConditionTrue, "Succeeded")(s) && s.LastAppliedRevision == rev
	})
	stop()
	versions := func() [2]string {
		var a, inv corev1.ConfigMap
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "a"}, &a); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gitsync-apps"}, &inv); err != nil {
			t.Fatal(err)
		}
		return [2]string{a.ResourceVersion, inv.ResourceVersion}
	}
	before := versions()
	applied := len(eventNotes(t, c, ns, "apps", "Applied"))

	// restart marks the status, so that waiting for Ready to be set again waits
	// for the new controller's first pass, and starts a new manager.
	restart := func() func() {
		t.Helper()
		if err := c.Get(ctx, key, gs); err != nil {
			t.Fatal(err)
		}
		orig := gs.DeepCopy()
		setCondition(&gs.Status, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionUnknown, "Restarted", "")
		if err := c.Status().Patch(ctx, gs, client.MergeFrom(orig)); err != nil {
			t.Fatal(err)
		}
		return startManager(t, cfg, options{}, ns)
	}

	stop = restart()
	waitStatus(t, c, key, "first pass after the restart", readyIs(metav1.ConditionTrue, "Succeeded", rev))
	stop()
	if after := versions(); after != before {
		t.Errorf("resourceVersions of the ConfigMap and the inventory %v, were %v: the restarted controller applied again", after, before)
	} else {
		t.Logf("after the restart's first pass: resourceVersions %v unchanged", after)
	}
	if n := len(eventNotes(t, c, ns, "apps", "Applied")); n != applied {
		t.Errorf("%d Applied events after the restart, were %d", n, applied)
	}

	// A broken commit while the controller is down: its first pass fails, and the
	// status still says which revision is applied.
	r.Commit("broken", map[string]string{"deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"})
	r.Publish()
	restart()
	var got v1alpha1.GitSyncStatus
	waitStatus(t, c, key, "broken commit reported", func(s v1alpha1.GitSyncStatus) bool {
		got = s
		return readyIs(metav1.ConditionFalse, "RenderFailed", "deploy/a.yaml")(s)
	})
	if got.LastAppliedRevision != rev {
		t.Errorf("lastAppliedRevision = %q after a failed first pass, want %q", got.LastAppliedRevision, rev)
	}
	t.Logf("after a restart onto a broken commit: lastAppliedRevision %s, Ready=False %s", got.LastAppliedRevision,
		condition(got, v1alpha1.ConditionReady).Message)
}

// With one worker, a GitSync whose objects never become healthy does not hold
// up another: it is Ready=Unknown while it waits, and Ready=False once its
// timeout passes.
func TestHealthWaitDoesNotBlock(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)
	startManager(t, cfg, options{concurrent: 1}, ns)
	c := newClient(t, cfg)
	ctx := context.Background()

	// No storage class and no controller binds it: the claim stays Pending.
	pvc := "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n" +
		"  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n"
	_, url, rev := serveRepo(t, map[string]string{"slow/pvc.yaml": pvc, "fast/a.yaml": configMapYAML("", "a")})

	slow := newGitSync(ns, "slow", url, "slow", true)
	slow.Spec.Timeout = &metav1.Duration{Duration: time.Hour}
	if err := c.Create(ctx, slow); err != nil {
		t.Fatal(err)
	}
	slowKey := client.ObjectKeyFromObject(slow)
	waiting := func(s v1alpha1.GitSyncStatus) bool {
		return readyIs(metav1.ConditionUnknown, "Progressing", "claim is pending")(s) &&
			condition(s, v1alpha1.ConditionReconciling).Status == metav1.ConditionTrue
	}
	waitStatus(t, c, slowKey, "slow waits for health", waiting)

	fast := newGitSync(ns, "fast", url, "fast", true)
	if err := c.Create(ctx, fast); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, client.ObjectKeyFromObject(fast), "fast ready", func(s v1alpha1.GitSyncStatus) bool {
		return readyIs(metav1.ConditionTrue, "Succeeded")(s) && s.LastAppliedRevision == rev
	})
	if err := c.Get(ctx, slowKey, slow); err != nil {
		t.Fatal(err)
	}
	if !waiting(slow.Status) || slow.Status.LastAppliedRevision != "" {
		t.Fatalf("slow while fast turned ready: %+v, want still waiting and no applied revision", slow.Status)
	}

	// The controller writes the object too (status, finalizer): retry on a conflict.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, slowKey, slow); err != nil {
			return err
		}
		slow.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		return c.Update(ctx, slow)
	}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, slowKey, "slow times out", func(s v1alpha1.GitSyncStatus) bool {
		return readyIs(metav1.ConditionFalse, "HealthCheckFailed", "not healthy 2s", "PersistentVolumeClaim")(s) &&
			s.LastAppliedRevision == "" && condition(s, v1alpha1.ConditionReconciling).Status == metav1.ConditionFalse
	})
	// Passes after the timeout find it unhealthy still; one event says so, once.
	if err := c.Get(ctx, slowKey, slow); err != nil {
		t.Fatal(err)
	}
	since := condition(slow.Status, v1alpha1.ConditionReconciling).LastTransitionTime.Add(2 * time.Second)
	waitStatus(t, c, slowKey, "two more passes", func(s v1alpha1.GitSyncStatus) bool {
		return !condition(s, v1alpha1.ConditionReconciling).LastTransitionTime.Time.Before(since)
	})
	var events eventsv1.EventList
	if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, e := range events.Items {
		if e.Regarding.Name == "slow" && e.Reason == "HealthCheckFailed" {
			n := 1
			if e.Series != nil {
				n = int(e.Series.Count)
			}
			failed = append(failed, fmt.Sprintf("%dx %s", n, e.Note))
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "1x not healthy 2s") {
		t.Errorf("HealthCheckFailed events: %q, want one, once", failed)
	}
}

// applyManifests applies a file of config/ for real.
func applyManifests(t *testing.T, cfg *rest.Config, name string) {
	t.Helper()
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(context.Background(), readManifests(t, name), apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// The controller runs as its ServiceAccount with only the rights of
// config/rbac.yaml. A GitSync naming a ServiceAccount that may write only the
// ConfigMaps of its namespace applies ConfigMaps there, and fails, naming the
// object, when its repository declares a Deployment or an object in another
// namespace; one without a ServiceAccount fails with the controller's own rights,
// which are not cluster-admin. The API server enforces RBAC.
func TestServiceAccountImpersonation(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	other := cluster.NewNamespace(t)
	installCRD(t, cfg)
	applyManifests(t, cfg, "rbac.yaml")
	c := newClient(t, cfg)
	ctx := context.Background()

	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "configmaps", Namespace: ns}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tenant-configmaps", Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "configmaps"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}},
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	asController := rest.CopyConfig(cfg)
	asController.Impersonate = rest.ImpersonationConfig{UserName: serviceAccountUser("gitsync-system", "gitsync-controller")}
	startManager(t, asController, options{leaderElect: true, leaderElectionNS: "gitsync-system"}, ns)

	deployment := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n" +
		"  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - {name: web, image: nginx}\n"
	_, url, rev := serveRepo(t, map[string]string{
		"configmaps/a.yaml":   configMapYAML("", "a"),
		"deployment/b.yaml":   configMapYAML("", "b"),
		"deployment/web.yaml": deployment,
		"elsewhere/c.yaml":    configMapYAML(other, "c"),
	})
	gitSync := func(name, path, sa string) types.NamespacedName {
		gs := newGitSync(ns, name, url, path, true)
		gs.Spec.ServiceAccountName = sa
		return create(t, c, gs)
	}
	tenant := gitSync("configmaps", "configmaps", "tenant")
	deploy := gitSync("deployment", "deployment", "tenant")
	elsewhere := gitSync("elsewhere", "elsewhere", "tenant")
	own := gitSync("own", "configmaps", "")

	waitStatus(t, c, tenant, "ConfigMaps applied as the tenant", func(s v1alpha1.GitSyncStatus) bool {
		return readyIs(metav1.ConditionTrue, "Succeeded")(s) && s.LastAppliedRevision == rev
	})
	var a corev1.ConfigMap
	if !exists(t, c, types.NamespacedName{Namespace: ns, Name: "a"}, &a) {
		t.Fatal("ConfigMap a not applied")
	}
	tenantUser := serviceAccountUser(ns, "tenant")
	refused := func(key types.NamespacedName, what string, parts ...string) {
		t.Helper()
		var got v1alpha1.GitSyncStatus
		waitStatus(t, c, key, what, func(s v1alpha1.GitSyncStatus) bool {
			got = s
			return readyIs(metav1.ConditionFalse, "DiffFailed", append(parts, "forbidden")...)(s)
		})
		t.Logf("%s: Ready=False %s", key.Name, condition(got, v1alpha1.ConditionReady).Message)
	}
	refused(deploy, "Deployment refused", "apps/Deployment/"+ns+"/web", tenantUser)
	refused(elsewhere, "other namespace refused", "/ConfigMap/"+other+"/c", tenantUser)
	refused(own, "the controller's own rights refused", "/ConfigMap/"+ns+"/a", serviceAccountUser("gitsync-system", "gitsync-controller"))
	for _, key := range []types.NamespacedName{{Namespace: ns, Name: "b"}, {Namespace: other, Name: "c"}} {
		if exists(t, c, key, &corev1.ConfigMap{}) {
			t.Errorf("ConfigMap %s applied by a GitSync that failed", key)
		}
	}

	// The tenant prunes on deletion, in its own name.
	if err := c.Delete(ctx, &v1alpha1.GitSync{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenant.Name}}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, c, tenant, &v1alpha1.GitSync{})
	if exists(t, c, types.NamespacedName{Namespace: ns, Name: "a"}, &corev1.ConfigMap{}) {
		t.Error("ConfigMap a not pruned when its GitSync was deleted")
	}
}
