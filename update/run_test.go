package update

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
	"github.com/gitopskit/gitopskit/update/updatetest"
)

const appYAML = `# The app, deployed by the agent.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: shop
spec:
  replicas: 2 # scaled by hand
  selector: {matchLabels: {app: app}}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: REGISTRY/team/app:1.0.0 # {"$imagepolicy": "shop:app"}
          ports: [{containerPort: 8080}]
        - name: sidecar
          image: REGISTRY/team/sidecar:0.1.0 # not governed by a policy
`

const valuesYAML = `image:
  repository: REGISTRY/team/app
  tag: 1.0.0 # {"$imagepolicy": "shop:app:tag"}
unrelated: 1.0.0
`

const untouchedYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name:   spaced     # odd formatting must survive
data: {image: "REGISTRY/team/app:1.0.0"}
`

const templateYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
`

type runFixture struct {
	repo *gittest.Repo
	reg  *updatetest.Registry
	git  *git.Repository
	opts Options
}

func newRunFixture(t *testing.T) *runFixture {
	t.Helper()
	reg := updatetest.NewRegistry(t, updatetest.Options{Auth: updatetest.TokenFlow})
	reg.Push(t, "team/app", "1.0.0", "1.1.0", "1.2.3", "2.0.0-rc.1", "latest")
	repo := gittest.NewRepo(t, "", "config.git")
	sub := func(s string) string { return strings.ReplaceAll(s, "REGISTRY", reg.Host) }
	repo.Commit("initial", map[string]string{
		"deploy/app.yaml":                sub(appYAML),
		"deploy/values.yaml":             sub(valuesYAML),
		"deploy/configmap.yaml":          sub(untouchedYAML),
		"deploy/chart/templates/cm.yaml": templateYAML,
		"other/app.yaml":                 sub(appYAML),
	})
	repo.Publish()
	srv := gittest.NewHTTPServer(t, repo.Root, gittest.HTTPOptions{Username: "git", Password: "git-pass"})
	g, err := git.New(git.Options{
		URL: srv.URL + "/config.git", CacheDir: t.TempDir(), Ref: git.Ref{Branch: "main"},
		Auth: git.Auth{Username: "git", Password: "git-pass"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &runFixture{repo: repo, reg: reg, git: g, opts: Options{
		Policies:   []Policy{{Name: "shop:app", Image: reg.Host + "/team/app", SemVer: &SemVer{Range: "^1"}}},
		Registry:   &Registry{Auth: RegistryAuth{Username: reg.Username, Password: reg.Password}},
		Repository: g,
		Path:       "deploy",
		Author:     source.Signature{Name: "Image Updater", Email: "updater@example.com", When: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)},
	}}
}

func (f *runFixture) show(t *testing.T, file string) string {
	t.Helper()
	return f.repo.Git("--git-dir", f.repo.Bare(), "show", "main:"+file)
}

func TestRun(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	before := f.repo.Git("--git-dir", f.repo.Bare(), "rev-parse", "main")

	res, err := Run(ctx, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	host := f.reg.Host
	if len(res.Images) != 1 || res.Images[0].Tag != "1.2.3" || !res.Pushed || res.Attempts != 1 {
		t.Fatalf("result %+v", res)
	}
	head := f.repo.Git("--git-dir", f.repo.Bare(), "rev-parse", "main")
	if res.Revision != "main@sha1:"+head || f.repo.Git("--git-dir", f.repo.Bare(), "rev-parse", "main^") != before {
		t.Fatalf("revision %s, remote main %s", res.Revision, head)
	}
	// Only the marked fields changed; comments, formatting and other files are intact.
	wantApp := strings.ReplaceAll(strings.Replace(appYAML, "team/app:1.0.0", "team/app:1.2.3", 1), "REGISTRY", host)
	if got := f.show(t, "deploy/app.yaml"); got+"\n" != wantApp {
		t.Fatalf("deploy/app.yaml:\n%s\nwant\n%s", got, wantApp)
	}
	if got := f.show(t, "deploy/values.yaml"); got+"\n" != strings.ReplaceAll(strings.Replace(valuesYAML, "tag: 1.0.0", "tag: 1.2.3", 1), "REGISTRY", host) {
		t.Fatalf("deploy/values.yaml:\n%s", got)
	}
	changed := f.repo.Git("--git-dir", f.repo.Bare(), "diff", "--name-only", before, "main")
	if changed != "deploy/app.yaml\ndeploy/values.yaml" {
		t.Fatalf("changed files:\n%s", changed)
	}
	msg := f.repo.Git("--git-dir", f.repo.Bare(), "log", "-1", "--format=%an <%ae>%n%B", "main")
	for _, want := range []string{
		"Image Updater <updater@example.com>",
		"Update images",
		"- deploy/app.yaml:16: " + host + "/team/app:1.0.0 → " + host + "/team/app:1.2.3 (shop:app)",
		"- deploy/values.yaml:3: 1.0.0 → 1.2.3 (shop:app)",
	} {
		if !strings.Contains(msg, want) {
			t.Fatalf("commit message lacks %q:\n%s", want, msg)
		}
	}
	if len(res.Files) != 2 || len(res.Edits) != 2 {
		t.Fatalf("files %d, edits %+v", len(res.Files), res.Edits)
	}

	// Nothing new in the registry: nothing to commit.
	again, err := Run(ctx, f.opts)
	if err != nil || again.Pushed || len(again.Edits) != 0 || again.Revision != res.Revision {
		t.Fatalf("second run: %+v, %v", again, err)
	}

	// A new version appears; the next run picks it up, pinned to its digest.
	digest := f.reg.Push(t, "team/app", "1.3.0")["1.3.0"]
	f.opts.Policies[0].Digest = true
	third, err := Run(ctx, f.opts)
	if err != nil || !third.Pushed {
		t.Fatalf("third run: %+v, %v", third, err)
	}
	if got := f.show(t, "deploy/values.yaml"); !strings.Contains(got, "tag: 1.3.0@"+digest+" # {") {
		t.Fatalf("pinned values.yaml:\n%s", got)
	}
}

// racingRepository lets another writer push to the branch between the updater's
// fetch and its first push.
type racingRepository struct {
	*git.Repository
	race   func()
	pushes atomic.Int32
}

func (r *racingRepository) Push(ctx context.Context, c git.Change) (string, error) {
	if r.pushes.Add(1) == 1 {
		r.race()
	}
	return r.Repository.Push(ctx, c)
}

func TestRunPushRace(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	// The other writer edits the same file the updater edits.
	racing := &racingRepository{Repository: f.git, race: func() {
		f.repo.Commit("scale up", map[string]string{
			"deploy/app.yaml": strings.ReplaceAll(strings.Replace(appYAML, "replicas: 2", "replicas: 5", 1), "REGISTRY", f.reg.Host),
		})
		f.repo.Publish()
	}}
	f.opts.Repository = racing
	res, err := Run(ctx, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || racing.pushes.Load() != 2 || !res.Pushed {
		t.Fatalf("attempts %d, pushes %d, pushed %v", res.Attempts, racing.pushes.Load(), res.Pushed)
	}
	got := f.show(t, "deploy/app.yaml")
	if !strings.Contains(got, "replicas: 5 # scaled by hand") || !strings.Contains(got, "team/app:1.2.3 # {") {
		t.Fatalf("a change was lost:\n%s", got)
	}
	if parent := f.repo.Git("--git-dir", f.repo.Bare(), "log", "-1", "--format=%s", "main^"); parent != "scale up" {
		t.Fatalf("the update is not on top of the other writer's commit: %q", parent)
	}

	// A branch that never stops moving exhausts the attempts.
	n := 0
	f.opts.MaxAttempts = 2
	f.reg.Push(t, "team/app", "1.4.0")
	always := &alwaysMoving{Repository: f.git, move: func() {
		n++
		f.repo.Commit("noise", map[string]string{"noise.txt": strings.Repeat("x", n)})
		f.repo.Publish()
	}}
	f.opts.Repository = always
	if _, err := Run(ctx, f.opts); !errors.Is(err, git.ErrNonFastForward) {
		t.Fatalf("Run on a moving branch = %v, want ErrNonFastForward", err)
	}
	if n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

// alwaysMoving has another writer push before every push of the updater.
type alwaysMoving struct {
	*git.Repository
	move func()
}

func (r *alwaysMoving) Push(ctx context.Context, c git.Change) (string, error) {
	r.move()
	return r.Repository.Push(ctx, c)
}

func TestRunErrors(t *testing.T) {
	f := newRunFixture(t)
	ctx := context.Background()
	opts := f.opts
	opts.Registry = &Registry{} // no credentials
	if _, err := Run(ctx, opts); err == nil || !strings.Contains(err.Error(), `policy "shop:app"`) || strings.Contains(err.Error(), f.reg.Password) {
		t.Fatalf("run without registry credentials: %v", err)
	}
	opts = f.opts
	opts.Policies = append(opts.Policies, opts.Policies[0])
	if _, err := Run(ctx, opts); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("duplicate policy: %v", err)
	}
	opts = f.opts
	opts.Policies = []Policy{{Name: "shop:app", Image: f.reg.Host + "/team/app", SemVer: &SemVer{Range: "^9"}}}
	if _, err := Run(ctx, opts); !errors.Is(err, ErrNoTag) {
		t.Fatalf("no tag: %v", err)
	}
	opts = f.opts
	opts.Author = source.Signature{}
	if _, err := Run(ctx, opts); err == nil {
		t.Fatal("a run without an author was accepted")
	}
}
