// Package source benchmarks source/git against the git CLI on a workload served
// over smart HTTP on loopback: about 2,000 commits and 3,000 YAML files.
package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

var workload = gittest.History{Commits: 2000, Files: 3000}

var (
	genOnce sync.Once
	genRoot string // holds workload.git, generated once per process
	tmpRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gitopskit-bench-source")
	if err != nil {
		panic(err)
	}
	tmpRoot = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// serve copies the generated workload into a fresh root (a local clone: hard links)
// and serves it; the copy can take new commits without touching the original.
func serve(b *testing.B) (*gittest.HTTPServer, string) {
	b.Helper()
	testtool.Require(b, "git")
	genOnce.Do(func() {
		genRoot = filepath.Join(tmpRoot, "workload")
		if err := os.MkdirAll(genRoot, 0o755); err != nil {
			b.Fatal(err)
		}
		r := gittest.NewRepo(b, genRoot, "workload.git")
		r.Generate(workload)
	})
	root := b.TempDir()
	gittest.Git(b, root, "clone", "-q", "--bare", "--no-local", filepath.Join(genRoot, "workload.git"), "repo.git")
	srv := gittest.NewHTTPServer(b, root, gittest.HTTPOptions{})
	return srv, root
}

// addCommit appends one commit changing one file to main in the served repository.
func addCommit(b *testing.B, bare string, n int) {
	body := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-%d\n", n)
	stream := fmt.Sprintf("commit refs/heads/main\ncommitter Bench <b@example.com> %d +0000\ndata 4\nnew\nfrom refs/heads/main^0\nM 100644 inline dir-000/cm-0.yaml\ndata %d\n%s\n",
		time.Now().Unix(), len(body), body)
	cmd := exec.Command("git", "--git-dir", bare, "fast-import", "--quiet")
	cmd.Env = gittest.Env()
	cmd.Stdin = strings.NewReader(stream)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("fast-import: %v\n%s", err, out)
	}
}

func gitCLI(b *testing.B, dir string, args ...string) {
	b.Helper()
	gittest.Git(b, dir, args...)
}

// report records both sides per operation and their ratio.
func report(b *testing.B, ours, theirs time.Duration) {
	n := float64(b.N)
	b.ReportMetric(float64(ours.Microseconds())/1000/n, "gitopskit-ms/op")
	b.ReportMetric(float64(theirs.Microseconds())/1000/n, "git-ms/op")
	b.ReportMetric(float64(ours)/float64(theirs), "ratio")
	b.ReportMetric(0, "ns/op")
}

// checkouts are the two ways source/git presents a commit; each benchmark runs
// both as sub-benchmarks.
var checkouts = []struct {
	name string
	mode git.Checkout
}{{"directory", git.CheckoutDirectory}, {"lazy", git.CheckoutLazy}}

// BenchmarkShallowClone: a first fetch into an empty cache. The gitopskit timer
// covers git.New and Fetch: one advertisement (GET), the depth-1 pack (POST),
// writing pack and index, and the checkout with its digest (directory: 3,000 files
// written; lazy: the trees indexed and 3,000 blob sizes read). The git timer covers
// `git clone --depth 1 --no-tags` (its checkout writes the 3,000 files).
func BenchmarkShallowClone(b *testing.B) {
	for _, c := range checkouts {
		b.Run(c.name, func(b *testing.B) {
			srv, _ := serve(b)
			url := srv.URL + "/repo.git"
			ctx := context.Background()
			var ours, theirs time.Duration
			for i := 0; b.Loop(); i++ {
				dir := b.TempDir()
				start := time.Now()
				r, err := git.New(git.Options{URL: url, CacheDir: filepath.Join(dir, "cache"), Checkout: c.mode})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Fetch(ctx); err != nil {
					b.Fatal(err)
				}
				ours += time.Since(start)
				start = time.Now()
				gitCLI(b, dir, "clone", "-q", "--depth", "1", "--no-tags", url, "cli")
				theirs += time.Since(start)
			}
			report(b, ours, theirs)
		})
	}
}

// BenchmarkIncrementalFetch: one new commit (one changed file) fetched into a warm
// cache and presented as an artifact. The gitopskit timer covers one Fetch: the
// advertisement (GET) and the pack (POST) over one session, storing the pack, and
// the checkout (directory: a new directory with 2,999 files hard-linked and one
// written, plus deleting the checkout that falls out of KeepArtifacts=3; lazy: the
// trees indexed). The git timer covers `git fetch --depth 1 origin main` and `git
// reset --hard FETCH_HEAD` in a shallow clone (one file rewritten in place). Adding
// the commit on the server is outside both timers. requests/op counts gitopskit's
// HTTP requests.
func BenchmarkIncrementalFetch(b *testing.B) {
	for _, c := range checkouts {
		b.Run(c.name, func(b *testing.B) {
			srv, root := serve(b)
			url, bare := srv.URL+"/repo.git", filepath.Join(root, "repo.git")
			ctx := context.Background()
			dir := b.TempDir()
			r, err := git.New(git.Options{URL: url, CacheDir: filepath.Join(dir, "cache"), Checkout: c.mode})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
			gitCLI(b, dir, "clone", "-q", "--depth", "1", "--no-tags", url, "cli")
			cli := filepath.Join(dir, "cli")
			var ours, theirs time.Duration
			var requests int64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				addCommit(b, bare, i)
				b.StartTimer()
				before := srv.Requests.Load()
				start := time.Now()
				a, err := r.Fetch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				ours += time.Since(start)
				requests += srv.Requests.Load() - before
				start = time.Now()
				gitCLI(b, cli, "fetch", "-q", "--depth", "1", "origin", "main")
				gitCLI(b, cli, "reset", "-q", "--hard", "FETCH_HEAD")
				theirs += time.Since(start)
				if !strings.HasPrefix(a.Revision, "main@sha1:") {
					b.Fatal(a.Revision)
				}
			}
			report(b, ours, theirs)
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkLatestRevision: polling an unchanged repository. The gitopskit timer
// covers one LatestRevision (one advertisement GET, no objects); the git timer one
// `git ls-remote <url> refs/heads/main`. It also reports the HTTP requests per poll.
func BenchmarkLatestRevision(b *testing.B) {
	srv, _ := serve(b)
	url := srv.URL + "/repo.git"
	ctx := context.Background()
	r, err := git.New(git.Options{URL: url, CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	var ours, theirs time.Duration
	var requests int64
	for b.Loop() {
		before := srv.Requests.Load()
		start := time.Now()
		if _, err := r.LatestRevision(ctx); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		requests += srv.Requests.Load() - before
		start = time.Now()
		gitCLI(b, "", "ls-remote", url, "refs/heads/main")
		theirs += time.Since(start)
	}
	report(b, ours, theirs)
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}
