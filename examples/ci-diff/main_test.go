package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	if isolate.Child() {
		return
	}
	cluster.Run(m)
}

// Base64 of the Secret's passwords, which no report may show.
const (
	basePassword = "aHVudGVyMg=="         // hunter2
	headPassword = "Y29ycmVjdC1ob3JzZQ==" // correct-horse
	headToken    = "c3RhcGxlLWJhdHRlcnk=" // staple-battery
)

// testRepo builds a repository whose main branch is the base and whose feature
// branch changes a ConfigMap and a Secret, adds a Service, removes a ConfigMap and
// removes another one annotated to be kept on prune.
func testRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	r := gittest.NewRepo(t, "", "apps.git")
	r.Commit("base", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n  size: large\n",
		"deploy/secret.yaml":   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: " + basePassword + "\n",
		"deploy/web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`,
		"deploy/old.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\ndata:\n  a: b\n",
		"deploy/kept.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\ndata:\n  a: b\n",
		"README.md":        "not rendered: only deploy/ is\n",
	})
	r.Git("checkout", "-b", "feature")
	r.Commit("head", map[string]string{
		"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: green\n",
		"deploy/secret.yaml":   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: " + headPassword + "\n  token: " + headToken + "\n",
		"deploy/svc.yaml":      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
		"deploy/old.yaml":      gittest.Delete,
		"deploy/kept.yaml":     gittest.Delete,
	})
	r.Publish()
	return r
}

func testOptions(t *testing.T, r *gittest.Repo) options {
	return options{
		Repo: r.Bare(), Base: "main", Head: "feature", Path: "deploy",
		Engine: "offline", FieldManager: "ci-test", CacheDir: t.TempDir(), Timeout: time.Minute,
		Policy: policy{MaxChanges: -1}, maskKey: []byte("test"),
	}
}

// checkMasked fails when a Secret value shows in out.
func checkMasked(t *testing.T, out string) {
	t.Helper()
	for _, v := range []string{basePassword, headPassword, headToken, "hunter2", "correct-horse", "staple-battery"} {
		if strings.Contains(out, v) {
			t.Errorf("the report shows a Secret value %q:\n%s", v, out)
		}
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run with -update to accept it):\n%s", path, got)
	}
}

func TestBaseHeadMarkdown(t *testing.T) {
	r := testRepo(t)
	rep := compare(context.Background(), testOptions(t, r))
	if rep.Error != "" {
		t.Fatal(rep.Error)
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "base-head.md", md.String())
	checkMasked(t, md.String())

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	checkMasked(t, js.String())
	var decoded report
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	want := `{"create":1,"update":2,"delete":1,"none":1,"failed":0}`
	if got, _ := json.Marshal(decoded.Counts); string(got) != want {
		t.Errorf("counts = %s, want %s", got, want)
	}
	if len(decoded.Kept) != 1 || decoded.Kept[0] != "/ConfigMap//kept" {
		t.Errorf("kept = %v, want the ConfigMap annotated prune: disabled", decoded.Kept)
	}
	if !strings.HasPrefix(decoded.Head.Revision, "feature@sha1:") || !strings.HasPrefix(decoded.Base.Revision, "main@sha1:") {
		t.Errorf("revisions = %q, %q", decoded.Head.Revision, decoded.Base.Revision)
	}
}

func TestRunExitStatus(t *testing.T) {
	r := testRepo(t)
	r.Git("checkout", "-b", "broken")
	r.Commit("broken YAML", map[string]string{"deploy/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"})
	r.Publish()
	cache := t.TempDir()
	args := func(extra ...string) []string {
		return append([]string{"--repo", r.Bare(), "--base", "main", "--path", "deploy", "--cache-dir", cache}, extra...)
	}
	tests := []struct {
		name   string
		args   []string
		status int
		stdout []string
	}{
		{"ok", args("--head", "feature"), exitOK, []string{"✅ Policy passed."}},
		{"fail on delete", args("--head", "feature", "--fail-on-delete"), exitPolicy, []string{"❌ **Policy failed:**", "1 object(s) would be deleted"}},
		{"max changes", args("--head", "feature", "--max-changes", "3"), exitPolicy, []string{"4 objects would change, more than 3"}},
		{"max changes met", args("--head", "feature", "--max-changes", "4"), exitOK, nil},
		{"no change", args("--head", "main", "--fail-on-delete", "--max-changes", "0"), exitOK, []string{"✅ No changes."}},
		{"render error", args("--head", "broken"), exitError, []string{"could not be computed", "deploy/bad.yaml"}},
		{"unknown ref", args("--head", "nope"), exitError, []string{"could not be computed"}},
		{"no base", []string{"--repo", r.Bare(), "--head", "feature"}, exitUsage, nil},
		{"bad engine", args("--head", "feature", "--engine", "magic"), exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(context.Background(), tt.args, &stdout, &stderr)
			if status != tt.status {
				t.Fatalf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.status, stdout.String(), stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			checkMasked(t, stdout.String())
		})
	}
}

func TestJSONFile(t *testing.T) {
	r := testRepo(t)
	out := filepath.Join(t.TempDir(), "plan.json")
	var stdout, stderr bytes.Buffer
	status := run(context.Background(), []string{"--repo", r.Bare(), "--base", "main", "--head", "feature",
		"--path", "deploy", "--cache-dir", t.TempDir(), "--json", out}, &stdout, &stderr)
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkMasked(t, string(b))
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Changes) != 5 || rep.Against != "base" {
		t.Errorf("JSON report has %d changes against %q, want 5 against the base:\n%s", len(rep.Changes), rep.Against, b)
	}
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{
		"main":                  "{Branch:main}",
		"tag:v1":                "{Tag:v1}",
		"refs/pull":             "{Name:refs/pull}",
		strings.Repeat("a", 40): "{Commit:" + strings.Repeat("a", 40) + "}",
	} {
		r, err := parseRef(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := refString(r.Branch, r.Tag, r.Name, r.Commit); got != want {
			t.Errorf("parseRef(%q) = %s, want %s", in, got, want)
		}
	}
	if _, err := parseRef("semver:1.x"); err == nil {
		t.Error("parseRef accepted an unknown kind")
	}
}

func refString(branch, tag, name, commit string) string {
	switch {
	case branch != "":
		return "{Branch:" + branch + "}"
	case tag != "":
		return "{Tag:" + tag + "}"
	case name != "":
		return "{Name:" + name + "}"
	}
	return "{Commit:" + commit + "}"
}

// TestRevisionExpressions: an abbreviated hash and revision expressions resolve
// as git rev-parse resolves them in a clone, over smart HTTP on loopback; without
// a cluster, the diffs' labels say base/ and head/, and the report names objects
// as kubectl does.
func TestRevisionExpressions(t *testing.T) {
	r := testRepo(t) // main: base; feature: head, one commit ahead
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	short := r.Git("rev-parse", "--short=8", "feature")
	for _, tc := range []struct{ base, head string }{
		{"feature~1", short},
		{"HEAD", "feature"}, // HEAD is the remote's default branch, main
		{"main", "feature"},
	} {
		o := testOptions(t, r)
		o.Repo, o.Base, o.Head = srv.URL+"/apps.git", tc.base, tc.head
		rep := compare(context.Background(), o)
		if rep.Error != "" {
			t.Fatalf("--base %s --head %s: %s", tc.base, tc.head, rep.Error)
		}
		for _, side := range []struct{ ref, got string }{{tc.base, rep.Base.Revision}, {tc.head, rep.Head.Revision}} {
			want := r.Git("rev-parse", side.ref)
			if side.ref == "HEAD" {
				want = r.Git("rev-parse", "main")
			}
			if !strings.HasSuffix(side.got, "sha1:"+want) {
				t.Errorf("%s resolved to %s, want %s", side.ref, side.got, want)
			}
		}
		if rep.Counts.Create+rep.Counts.Update+rep.Counts.Delete == 0 {
			t.Errorf("--base %s --head %s: no change", tc.base, tc.head)
		}
		var md bytes.Buffer
		if err := rep.WriteMarkdown(&md); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"--- base//ConfigMap//settings", "+++ head//ConfigMap//settings", "<code>configmap/settings</code>"} {
			if !strings.Contains(md.String(), want) {
				t.Errorf("--base %s --head %s: the report lacks %q:\n%s", tc.base, tc.head, want, md.String())
			}
		}
		if strings.Contains(md.String(), "live/") || strings.Contains(md.String(), "predicted/") {
			t.Errorf("labels name a cluster there is none of:\n%s", md.String())
		}
	}
	o := testOptions(t, r)
	o.Repo, o.Head = srv.URL+"/apps.git", "feature~5"
	if rep := compare(context.Background(), o); !strings.Contains(rep.Error, "feature~5") {
		t.Errorf("a revision past the root: %q, want an error naming it", rep.Error)
	}
}
