package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// demoApp is the example repository's content: a namespace, a ConfigMap, a
// Deployment and a Service under app/.
//
//go:embed demo/app
var demoApp embed.FS

// demoOptions configure the demo.
type demoOptions struct {
	// BinDir is the control plane's binary directory (default: clustertest's search).
	BinDir string
}

// demoNamespace is where the example application lives.
const demoNamespace = "gitsync-demo"

// runDemo shows the whole loop on this machine: a local cluster, the example
// repository served over smart HTTP on loopback, and the agent reacting to a sync, a
// commit, a manual edit and a removed file. It checks each step and fails when the
// cluster does not end up as it should.
func runDemo(ctx context.Context, out *printer, opts demoOptions) error {
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("the demo serves its repository with git http-backend: %w", err)
	}
	start := time.Now()
	out.Notef("▶ starting a local Kubernetes control plane (etcd, API server, controllers, one fake node)…")
	cluster, err := clustertest.Start(ctx, clustertest.Options{Nodes: 1, BinDir: opts.BinDir})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	cfg := cluster.RESTConfig()
	out.line("  cluster ready in %s; kubeconfig: %s", time.Since(start).Round(time.Millisecond), cluster.Kubeconfig())

	dir, err := os.MkdirTemp("", "gitsync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	repo, err := newDemoRepo(dir)
	if err != nil {
		return err
	}
	gitURL, stopGit, err := serveHTTP(func() (http.Handler, error) { return gittest.NewHandler(repo.root, gittest.HTTPOptions{}) })
	if err != nil {
		return err
	}
	defer stopGit()
	url := gitURL + "/app.git"
	out.line("  example repository: %s (smart HTTP on loopback), deploying app/", url)

	// Self-heal and force are opt-in: the demo asks for them as a user would.
	flags := []string{"--repo", url, "--ref", "main", "--path", "app", "--prune", "--mode", "self-heal", "--force",
		"--inventory", "default/gitsync-demo", "--health-timeout", "2m", "--interval", "1h"}
	out.line("  agent: gitsync %s", strings.Join(flags, " "))
	c, err := parseFlags(append(flags, "--cache-dir", filepath.Join(dir, "cache")))
	if err != nil {
		return err
	}
	// The demo runs one pass per step, asked by a webhook: no pass on drift (the
	// hand edit of step 3 is healed by the step's pass).
	rec, _, err := newReconciler(cfg, c, out)
	if err != nil {
		return err
	}
	a := newAgent(out, newMetrics())
	a.rec, a.passed = rec, make(chan passOutcome)
	agentURL, stopAgent, err := serveHTTP(func() (http.Handler, error) { return a.routes(), nil })
	if err != nil {
		return err
	}
	defer stopAgent()
	loopCtx, stopLoop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.loop(loopCtx, c.interval) }()
	defer func() { stopLoop(); <-done }()
	hook := func() (*reconcile.Result, error) {
		resp, err := http.Post(agentURL+"/hook", "application/json", strings.NewReader(`{"ref":"refs/heads/main"}`))
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return next(ctx, a)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	out.Notef("\n▶ 1. first sync of %s", repo.head())
	res, err := next(ctx, a)
	if err != nil {
		return err
	}
	if got := len(res.Applied()); got != 4 {
		return fmt.Errorf("first sync applied %d objects, want 4", got)
	}

	out.Notef("\n▶ 2. a commit changes the greeting and scales web to 2 replicas; a push webhook arrives")
	if err := repo.commit("Scale web and change the greeting", map[string]string{
		"app/configmap.yaml":  strings.Replace(repo.file("app/configmap.yaml"), "greeting: hello", "greeting: hello, gitops", 1),
		"app/deployment.yaml": strings.Replace(repo.file("app/deployment.yaml"), "replicas: 1", "replicas: 2", 1),
	}); err != nil {
		return err
	}
	if res, err = hook(); err != nil {
		return err
	}
	if got := len(res.Applied()); got != 2 {
		return fmt.Errorf("the commit applied %d objects, want 2", got)
	}

	out.Notef("\n▶ 3. someone edits the ConfigMap by hand (drift); the next pass heals it")
	cm, err := cs.CoreV1().ConfigMaps(demoNamespace).Get(ctx, "web-config", metav1.GetOptions{})
	if err != nil {
		return err
	}
	cm.Data["greeting"] = "edited by hand"
	if _, err := cs.CoreV1().ConfigMaps(demoNamespace).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		return err
	}
	out.line("  kubectl edit: configmap/web-config greeting = %q", "edited by hand")
	if res, err = hook(); err != nil {
		return err
	}
	cm, err = cs.CoreV1().ConfigMaps(demoNamespace).Get(ctx, "web-config", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if len(res.Drift) != 1 || cm.Data["greeting"] != "hello, gitops" {
		return fmt.Errorf("self-heal: drift %v, greeting %q after the pass", res.Drift, cm.Data["greeting"])
	}
	out.line("  greeting is %q again", cm.Data["greeting"])

	out.Notef("\n▶ 4. a commit removes app/service.yaml; the Service is pruned")
	if err := repo.commit("Remove the Service", map[string]string{"app/service.yaml": ""}); err != nil {
		return err
	}
	if res, err = hook(); err != nil {
		return err
	}
	if _, err := cs.CoreV1().Services(demoNamespace).Get(ctx, "web", metav1.GetOptions{}); err == nil || len(res.Pruned()) != 1 {
		return fmt.Errorf("prune: pruned %v, Service still there: %v", res.Pruned(), err == nil)
	}

	out.Notef("\n✔ demo complete in %s: synced, applied a commit, healed drift, pruned a removed file.", time.Since(start).Round(time.Second))
	out.line("  Next: point gitsync at your repository and cluster:\n    go run -C examples ./gitsync --repo https://… --path deploy --prune --kubeconfig ~/.kube/config")
	return nil
}

// next waits for the agent's next pass.
func next(ctx context.Context, a *agent) (*reconcile.Result, error) {
	select {
	case o := <-a.passed:
		return o.res, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		return nil, errors.New("no pass within 5 minutes")
	}
}

// serveHTTP serves a handler on a loopback port and returns its base URL.
func serveHTTP(h func() (http.Handler, error)) (string, func(), error) {
	handler, err := h()
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// demoRepo is the example repository: a working clone and the bare repository
// root/app.git it pushes to.
type demoRepo struct {
	work, root string
}

func newDemoRepo(dir string) (*demoRepo, error) {
	r := &demoRepo{work: filepath.Join(dir, "work"), root: filepath.Join(dir, "git")}
	for _, d := range []string{r.work, r.root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := gitRun(r.root, "init", "-q", "--bare", "-b", "main", "app.git"); err != nil {
		return nil, err
	}
	if err := gitRun(r.work, "init", "-q", "-b", "main"); err != nil {
		return nil, err
	}
	files := map[string]string{}
	err := fs.WalkDir(demoApp, "demo/app", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := demoApp.ReadFile(p)
		files["app/"+d.Name()] = string(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, r.commit("Add the web application", files)
}

// commit writes files (an empty content removes the file), commits and pushes.
func (r *demoRepo) commit(message string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(r.work, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-q", "-m", message}, {"push", "-q", filepath.Join(r.root, "app.git"), "main"}} {
		if err := gitRun(r.work, args...); err != nil {
			return err
		}
	}
	return nil
}

func (r *demoRepo) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.work, filepath.FromSlash(name)))
	return string(b)
}

func (r *demoRepo) head() string {
	out, _ := exec.Command("git", "-C", r.work, "log", "-1", "--format=%h %s").Output()
	return strings.TrimSpace(string(out))
}

func gitRun(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gittest.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
