package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// exampleApps publishes testdata/example-apps (applications side by side, as
// Argo CD's example apps lay them out) as a repository whose default branch is
// master, and serves it over smart HTTP on loopback. It returns the URL.
func exampleApps(t *testing.T) (*gittest.Repo, string) {
	t.Helper()
	requireGit(t)
	files := map[string]string{}
	root := os.DirFS("testdata/example-apps")
	err := fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, name)
		files[name] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	repo := gittest.NewRepo(t, "", "example-apps.git")
	repo.Git("checkout", "-q", "-b", "master")
	repo.Commit("Add the example applications", files)
	repo.Publish()
	gittest.Git(t, repo.Bare(), "symbolic-ref", "HEAD", "refs/heads/master")
	srv := gittest.NewHTTPServer(t, repo.Root, gittest.HTTPOptions{})
	return repo, srv.URL + "/example-apps.git"
}

// TestExampleApps runs `gitsync --path . --once --create-namespace` on a
// repository of a plain-YAML app, a kustomization, a chart and a chart of Argo
// CD Applications, on a cluster whose workloads roll out: every directory is
// rendered with its renderer (no Chart.yaml or values.yaml read as a manifest),
// every pass reports health, a manual edit shows as the field that drifted, and
// -v 1 logs every stage.
func TestExampleApps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster with controllers and a fake node")
	}
	_, url := exampleApps(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := clustertest.Start(ctx, clustertest.Options{Nodes: 1})
	if errors.Is(err, clustertest.ErrBinariesMissing) {
		missing(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	gitsync := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"--repo", url, "--path", ".", "--once", "--create-namespace", "--listen", "",
			"--kubeconfig", c.Kubeconfig(), "--cache-dir", t.TempDir(), "--inventory", "default/example-apps", "--health-timeout", "2m"}, args...)
		code := run(ctx, args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := gitsync("-v", "1")
	t.Logf("first pass:\n%s", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"created     namespace/guestbook",
		"created     deployment.apps/frontend -n guestbook",
		"created     deployment.apps/kustomize-web -n kustomize-guestbook",
		"created     configmap/kustomize-web-settings-",
		"created     deployment.apps/helm-guestbook -n helm-guestbook",
		"created     customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io",
		"created     application.argoproj.io/guestbook -n argocd",
		"✓ master@sha1:",
		"synced",
		"14 objects: 14 created, 1 namespace(s) created for them; Healthy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first pass: the output lacks %q", want)
		}
	}
	if strings.Contains(out, "drifted") {
		t.Errorf("the first pass calls a created object drifted:\n%s", out)
	}
	for _, stage := range []string{"source", "render", "diff", "apply", "health"} {
		if !strings.Contains(errOut, "stage="+stage) {
			t.Errorf("-v 1: no log line of stage %s:\n%s", stage, errOut)
		}
	}
	if !strings.Contains(errOut, `msg="waiting for health"`) {
		t.Errorf("no log line for the wait:\n%s", errOut)
	}

	// In sync: the pass reports health all the same.
	code, out, _ = gitsync()
	if code != 0 || !strings.Contains(out, "in sync") || !strings.Contains(out, "; Healthy") {
		t.Errorf("second pass: exit %d, want in sync and Healthy:\n%s", code, out)
	}

	// A manual edit shows as the field that drifted, then gets reverted.
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().Deployments("guestbook").Patch(ctx, "frontend", types.MergePatchType,
		[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = gitsync("--mode", "drift-only")
	if code != 0 || !strings.Contains(out, "out of sync deployment.apps/frontend -n guestbook .spec.replicas") || !strings.Contains(out, ": 1 drifted;") {
		t.Errorf("drift-only: exit %d, want the drifted field and one drifted object:\n%s", code, out)
	}
	code, out, _ = gitsync("--mode", "self-heal", "--force")
	if code != 0 || !strings.Contains(out, "configured  deployment.apps/frontend -n guestbook .spec.replicas") {
		t.Errorf("self-heal: exit %d, want the configured field:\n%s", code, out)
	}
}
