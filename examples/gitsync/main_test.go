package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/reconcile/fake"
	"github.com/gitopskit/gitopskit/source/git"
)

func TestParseRef(t *testing.T) {
	hash := strings.Repeat("ab", 20)
	for _, tc := range []struct {
		in   string
		want git.Ref
		bad  bool
	}{
		{"", git.Ref{}, false},
		{"main", git.Ref{Branch: "main"}, false},
		{"branch:release/1.x", git.Ref{Branch: "release/1.x"}, false},
		{"tag:v1.2.0", git.Ref{Tag: "v1.2.0"}, false},
		{"semver:>=1.0.0 <2.0.0", git.Ref{SemVer: ">=1.0.0 <2.0.0"}, false},
		{"commit:" + hash, git.Ref{Commit: hash}, false},
		{hash, git.Ref{Commit: hash}, false},
		{"refs/pull/1/head", git.Ref{Name: "refs/pull/1/head"}, false},
		{"tag:", git.Ref{}, true},
		{"sha:abc", git.Ref{}, true},
	} {
		got, err := parseRef(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseRef(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestFlags(t *testing.T) {
	if _, err := parseFlags([]string{"--interval", "0s"}); err == nil {
		t.Error("a zero interval was accepted")
	}
	if _, err := parseFlags([]string{"extra"}); err == nil {
		t.Error("a stray argument was accepted")
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--kubeconfig", "/nonexistent"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "--repo is required") {
		t.Errorf("--kubeconfig without --repo: exit %d, %q", code, stderr.String())
	}
}

// testAgent returns an agent whose reconciler has in-memory stages and a
// repository of one ConfigMap, reporting every pass on a.passed, and its output.
func testAgent(t *testing.T) (*agent, *bytes.Buffer) {
	t.Helper()
	src, c := &fake.Source{}, fake.NewCluster()
	src.Commit("main@sha1:"+strings.Repeat("1", 40), map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n"})
	out := &bytes.Buffer{}
	p := newPrinter(out)
	rec, err := reconcile.New(reconcile.Stages{Source: src, Differ: c, Applier: c, Health: c}, reconcile.Options{Mode: reconcile.SelfHeal, OnEvent: p.event})
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(p, newMetrics())
	a.rec, a.passed = rec, make(chan passOutcome, 4)
	return a, out
}

// With a secret, /hook triggers a pass only for a request signed as GitHub signs
// (HMAC-SHA256 of the body) or carrying GitLab's token.
func TestHookSecret(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, err := hookSecret(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := testAgent(t)
	a.hookSecret = secret
	srv := httptest.NewServer(a.routes())
	defer srv.Close()
	body := `{"ref":"refs/heads/main"}`
	sign := func(key string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"unsigned", nil, http.StatusUnauthorized},
		{"signed with another secret", map[string]string{"X-Hub-Signature-256": sign("other")}, http.StatusUnauthorized},
		{"not hex", map[string]string{"X-Hub-Signature-256": "sha256=zz"}, http.StatusUnauthorized},
		{"wrong GitLab token", map[string]string{"X-Gitlab-Token": "guess"}, http.StatusUnauthorized},
		{"GitHub signature", map[string]string{"X-Hub-Signature-256": sign("s3cret")}, http.StatusAccepted},
		{"GitLab token", map[string]string{"X-Gitlab-Token": "s3cret"}, http.StatusAccepted},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/hook", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		queued := len(a.trigger) == 1
		if queued != (tc.want == http.StatusAccepted) {
			t.Errorf("%s: pass queued = %v", tc.name, queued)
		}
		select {
		case <-a.trigger:
		default:
		}
	}
	if _, err := hookSecret(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing secret file is not an error")
	}
}

// TestAgentEndpoints drives the agent with in-memory stages: /readyz turns ready
// after a successful pass, /hook triggers a pass, /metrics exposes its outcome.
func TestAgentEndpoints(t *testing.T) {
	a, out := testAgent(t)
	srv := httptest.NewServer(a.routes())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before a pass = %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.loop(ctx, time.Hour) }()
	defer func() { cancel(); <-done }()
	if o := <-a.passed; o.err != nil || len(o.res.Applied()) != 1 {
		t.Fatalf("first pass: %v, applied %v", o.err, o.res.Applied())
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz after a pass = %d", code)
	}
	if code, _ := get("/hook"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /hook = %d", code)
	}
	resp, err := http.Post(srv.URL+"/hook", "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /hook: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case o := <-a.passed:
		if o.err != nil || !o.res.InSync() {
			t.Fatalf("hooked pass: %v, drift %v", o.err, o.res.Drift)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("POST /hook did not trigger a pass")
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`gitsync_reconcile_total{result="success",stage=""} 2`, `gitsync_objects_total{outcome="created"} 1`, `gitsync_health{code="Healthy"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	text := out.String()
	for _, want := range []string{"created     configmap/a -n x", "✓ main@sha1:111111111111 synced", "in sync"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Errorf("colour codes in output that is not a terminal:\n%q", text)
	}
}

// TestDemo runs the README's first command in-process: a local cluster with a fake
// node, the bundled repository over smart HTTP, sync, commit, self-heal and prune.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster with controllers and a fake node")
	}
	requireGit(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := runDemo(ctx, newPrinter(&out), demoOptions{})
	if errors.Is(err, clustertest.ErrBinariesMissing) {
		missing(t, err.Error())
	}
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"created     deployment.apps/web -n gitsync-demo",
		"configured  configmap/web-config -n gitsync-demo",
		"pruned      service/web -n gitsync-demo",
		"demo complete",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	t.Logf("demo output:\n%s", out.String())
}

// Self-heal and force are opt-in, as Argo CD's selfHeal and Flux's force are.
func TestSafeDefaults(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.mode != "apply" || c.force {
		t.Errorf("defaults: mode %q, force %v; want apply without force", c.mode, c.force)
	}
	if c, _ := parseFlags([]string{"--mode", "self-heal", "--force"}); c.mode != "self-heal" || !c.force {
		t.Errorf("asked for self-heal and force, got mode %q, force %v", c.mode, c.force)
	}
}

// TestCommandLine: help on stdout with the description, an unknown flag reported
// once, --version from the build information, --listen's default inside and
// outside a pod, bad -v and --log-format refused.
func TestCommandLine(t *testing.T) {
	cli := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := cli("--help")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "gitsync keeps a Kubernetes cluster equal to") {
		t.Errorf("--help: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	for _, want := range []string{"\n  --kubeconfig string\n", "\n  --context string\n", "\n  -v int\n", "\n  --log-format string\n", "\n  --version\n", `(default "apply")`} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = cli("--nope")
	if code != 2 || out != "" || strings.Count(errOut, "flag provided but not defined: -nope") != 1 || !strings.Contains(errOut, "gitsync --help") {
		t.Errorf("an unknown flag: exit %d, stdout %q, stderr (want the error once):\n%s", code, out, errOut)
	}
	code, out, _ = cli("--version")
	if code != 0 || !strings.HasPrefix(out, "gitsync ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"--log-format", "xml"}, {"-v", "-1"}} {
		if code, _, errOut := cli(args...); code != 2 || !strings.Contains(errOut, args[0]) {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if c, _ := parseFlags(nil); c.listen != "127.0.0.1:8080" {
		t.Errorf("--listen outside a pod = %q, want loopback", c.listen)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	if c, _ := parseFlags(nil); c.listen != ":8080" {
		t.Errorf("--listen in a pod = %q, want :8080", c.listen)
	}
}

// TestStatusLine: on a terminal, the status line names the stage in flight and
// how far it got.
func TestStatusLine(t *testing.T) {
	var buf bytes.Buffer
	p := newPrinter(&buf)
	p.tty = true
	id := func(n string) object.ID { return object.ID{Kind: "ConfigMap", Namespace: "x", Name: n} }
	for _, step := range []struct {
		events []reconcile.Event
		want   string
	}{
		{[]reconcile.Event{{Kind: reconcile.StageStarted, Stage: reconcile.StageSource}}, "fetching"},
		{[]reconcile.Event{{Kind: reconcile.StageStarted, Stage: reconcile.StageRender}}, "rendering"},
		{[]reconcile.Event{{Kind: reconcile.StageStarted, Stage: reconcile.StageDiff}}, "comparing with the cluster"},
		{[]reconcile.Event{{Kind: reconcile.StageStarted, Stage: reconcile.StageApply},
			{Kind: reconcile.ObjectDone, Object: apply.Event{ID: id("a"), Action: apply.Created}}}, "applying: 1 of 2"},
		{[]reconcile.Event{{Kind: reconcile.StageStarted, Stage: reconcile.StageHealth},
			{Kind: reconcile.HealthChanged, ID: id("a"), Health: health.Status{Code: health.Healthy}},
			{Kind: reconcile.HealthChanged, ID: id("b"), Health: health.Status{Code: health.Progressing}}}, "checking health: 1 of 2 done"},
	} {
		if step.events[0].Stage == reconcile.StageApply {
			p.planned(diff.NewPlan([]*diff.Change{{ID: id("a"), Action: diff.Create}, {ID: id("b"), Action: diff.Update}}, nil))
		}
		for _, e := range step.events {
			p.event(e)
		}
		buf.Reset()
		p.spin()
		if !strings.Contains(buf.String(), step.want) {
			t.Errorf("status line %q, want %q", buf.String(), step.want)
		}
	}
	p.stopWait()
}
