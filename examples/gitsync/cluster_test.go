package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/internal/testtool"
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
	testtool.Require(t, "git")
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
