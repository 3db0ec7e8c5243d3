package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// cluster serves the tests that run gitsync against an API server; it starts on
// first use.
var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	if isolate.Child() {
		return
	}
	os.Exit(cluster.Run(m))
}

// syncEnv is a repository of one ConfigMap (in deploy/, without a namespace) and
// a cluster for `gitsync --once` runs.
type syncEnv struct {
	t    *testing.T
	repo *gittest.Repo
	ns   string
	cs   *kubernetes.Clientset
	args []string // common flags: kubeconfig, path, cache, no listener
}

func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	requireGit(t)
	cs, err := kubernetes.NewForConfig(cluster.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	e := &syncEnv{t: t, repo: gittest.NewRepo(t, "", "app.git"), ns: cluster.NewNamespace(t), cs: cs}
	e.repo.Commit("initial", map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {key: v1}\n"})
	e.repo.Publish()
	e.args = []string{"--once", "--listen", "", "--kubeconfig", cluster.KubeconfigPath(t), "--path", "deploy",
		"--ref", "main", "--cache-dir", t.TempDir(), "--namespace", e.ns, "--inventory", e.ns + "/gitsync"}
	return e
}

// run runs gitsync with the common flags and args, and returns its exit code and
// its output (stdout and stderr).
func (e *syncEnv) run(args ...string) (int, string) {
	e.t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), append(append([]string{}, e.args...), args...), &out, &out)
	return code, out.String()
}

func TestCreateNamespaceFlag(t *testing.T) {
	e := newSyncEnv(t)
	srv := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{})
	target := e.ns + "-new"
	t.Cleanup(func() { _ = e.cs.CoreV1().Namespaces().Delete(context.Background(), target, metav1.DeleteOptions{}) })
	args := []string{"--repo", srv.URL + "/app.git", "--namespace", target, "--inventory", target + "/gitsync"}

	code, out := e.run(args...)
	if code == 0 || !bytes.Contains([]byte(out), []byte(`namespace "`+target+`"`)) || !bytes.Contains([]byte(out), []byte("--create-namespace")) {
		t.Fatalf("without --create-namespace: exit %d, want a failure naming the namespace and the flag:\n%s", code, out)
	}
	if code, out := e.run(append(args, "--create-namespace")...); code != 0 {
		t.Fatalf("with --create-namespace: exit %d:\n%s", code, out)
	}
	if _, err := e.cs.CoreV1().ConfigMaps(target).Get(context.Background(), "app", metav1.GetOptions{}); err != nil {
		t.Fatalf("the ConfigMap in the created namespace: %v", err)
	}
	if _, err := e.cs.CoreV1().Secrets(target).Get(context.Background(), "gitsync", metav1.GetOptions{}); apierrors.IsNotFound(err) {
		t.Fatal("the inventory was not stored in the created namespace")
	}
}

// TestOnceUnhealthy: `--once` fails when the set is not healthy, also on a pass
// that found it in sync, and every pass names what is not healthy. The test
// cluster has no controllers, so a Deployment never rolls out.
func TestOnceUnhealthy(t *testing.T) {
	e := newSyncEnv(t)
	srv := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{})
	e.repo.Commit("a deployment", map[string]string{"deploy/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`})
	e.repo.Publish()
	args := []string{"--repo", srv.URL + "/app.git", "--health-timeout", "1s"}
	for _, pass := range []string{"first (writes, waits)", "second (in sync)"} {
		code, out := e.run(args...)
		if code == 0 || !strings.Contains(out, "progressing deployment.apps/web -n "+e.ns) {
			t.Errorf("%s pass: exit %d, want a failure naming the Deployment:\n%s", pass, code, out)
		}
		if pass == "second (in sync)" && !strings.Contains(out, "not healthy: Progressing") {
			t.Errorf("%s pass does not say the set is not healthy:\n%s", pass, out)
		}
	}
	// A dry run only reports.
	if code, out := e.run(append(args, "--mode", "dry-run")...); code != 0 {
		t.Errorf("dry run: exit %d:\n%s", code, out)
	}
}

// TestKubeconfigContext: without --kubeconfig, gitsync reads $KUBECONFIG, and
// --context picks a context other than the current one.
func TestKubeconfigContext(t *testing.T) {
	e := newSyncEnv(t)
	srv := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{})
	kc, err := clientcmd.LoadFromFile(cluster.KubeconfigPath(t))
	if err != nil {
		t.Fatal(err)
	}
	good := kc.CurrentContext
	kc.Clusters["nowhere"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	kc.Contexts["nowhere"] = &clientcmdapi.Context{Cluster: "nowhere", AuthInfo: kc.Contexts[good].AuthInfo}
	kc.CurrentContext = "nowhere"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	args := []string{"--once", "--listen", "", "--repo", srv.URL + "/app.git", "--path", "deploy", "--cache-dir", t.TempDir(),
		"--namespace", e.ns, "--inventory", e.ns + "/gitsync"}
	var out bytes.Buffer
	if code := run(context.Background(), args, &out, &out); code == 0 || !strings.Contains(out.String(), "127.0.0.1:1") {
		t.Errorf("the current context of $KUBECONFIG: exit %d, want a failure to reach it:\n%s", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), append(args, "--context", good), &out, &out); code != 0 {
		t.Errorf("--context %s of $KUBECONFIG: exit %d:\n%s", good, code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), append(args, "--context", "missing"), &out, &out); code == 0 || !strings.Contains(out.String(), `"missing"`) {
		t.Errorf("--context missing: exit %d, want an error naming it:\n%s", code, out.String())
	}
}

// watchWriter is an io.Writer safe for concurrent use that calls on with the
// text written so far after each write.
type watchWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	on  func(string)
}

func (w *watchWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(b)
	if w.on != nil {
		w.on(w.buf.String())
	}
	return n, err
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestShutdown: a signal (the cancelled context) during an apply lets the apply
// finish, stops the pass before its next stage, says so, shuts the HTTP server
// down and exits 0.
func TestShutdown(t *testing.T) {
	e := newSyncEnv(t)
	files := map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("deploy/cm-%02d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%02d}\n", i)
	}
	e.repo.Commit("thirty ConfigMaps", files)
	e.repo.Publish()
	srv := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var listening atomic.Value
	out := &watchWriter{on: func(s string) {
		if i := strings.Index(s, "on http://"); i >= 0 && listening.Load() == nil {
			listening.Store(strings.Fields(s[i+len("on http://"):])[0])
		}
		if strings.Contains(s, "created ") {
			cancel() // a signal in the middle of the apply
		}
	}}
	args := []string{"--listen", "127.0.0.1:0", "--repo", srv.URL + "/app.git", "--kubeconfig", cluster.KubeconfigPath(t), "--path", "deploy",
		"--ref", "main", "--cache-dir", t.TempDir(), "--namespace", e.ns, "--inventory", e.ns + "/gitsync"}
	if code := run(ctx, args, out, out); code != 0 {
		t.Fatalf("exit %d after a shutdown:\n%s", code, out)
	}
	text := out.String()
	for _, want := range []string{"context canceled: shutting down", "interrupted: stopped before the health stage (31 objects: 31 created)", "gitsync: stopped"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	cms, err := e.cs.CoreV1().ConfigMaps(e.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(cms.Items) != 31 { // the set (no controller makes kube-root-ca.crt)
		t.Errorf("after the interrupted pass: %d ConfigMaps, %v; want the whole set applied", len(cms.Items), err)
	}
	addr, _ := listening.Load().(string)
	if addr == "" {
		t.Fatal("no listening address in the output")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the HTTP server still serves after the shutdown")
	}
}
