package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

func TestFetchIncrementalForcePushAndDeletedTag(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	cache := t.TempDir()
	ctx := context.Background()
	main, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: cache})
	must(t, err)
	a := mustFetchRepo(t, main)
	if a.Revision != "main@sha1:"+f.c3 {
		t.Fatalf("first fetch %s", a.Revision)
	}
	shallow, err := os.ReadFile(filepath.Join(main.dir, "repo", "shallow"))
	if err != nil || !strings.Contains(string(shallow), f.c3) {
		t.Fatalf("first fetch is not shallow: %q, %v", shallow, err)
	}

	// Nothing changed: no fetch request, same artifact.
	before := srv.Requests.Load()
	b := mustFetchRepo(t, main)
	if b.Path != a.Path || b.Digest != a.Digest {
		t.Fatalf("refetch gave %s, want %s", b.Path, a.Path)
	}
	if n := srv.Requests.Load() - before; n != 1 {
		t.Errorf("unchanged fetch made %d requests, want 1 (ls-remote)", n)
	}
	before = srv.Requests.Load()
	if rev, err := main.LatestRevision(ctx); err != nil || rev != a.Revision {
		t.Fatalf("LatestRevision = %s, %v", rev, err)
	}
	if n := srv.Requests.Load() - before; n != 1 {
		t.Errorf("LatestRevision made %d requests, want 1", n)
	}

	// A new commit arrives incrementally, in one advertisement and one pack request.
	c4 := f.repo.Commit("four", map[string]string{"app.yaml": "v: 4\n"})
	f.repo.Publish()
	before = srv.Requests.Load()
	if a = mustFetchRepo(t, main); a.Revision != "main@sha1:"+c4 || readFile(t, a, "app.yaml") != "v: 4\n" || readFile(t, a, "README.md") != "docs" {
		t.Fatalf("after a new commit: %s", a.Revision)
	}
	if n := srv.Requests.Load() - before; n != 2 {
		t.Errorf("incremental fetch made %d requests, want 2 (advertisement, pack)", n)
	}
	// The digest computed from the tree equals the one computed from the files.
	if d, err := source.Digest(ctx, a.FS); err != nil || d != a.Digest {
		t.Fatalf("Digest(checkout) = %s, %v; artifact says %s", d, err, a.Digest)
	}

	// Force-push main back to an unrelated history.
	f.repo.Git("checkout", "-q", "--orphan", "rewritten")
	f.repo.Git("rm", "-q", "-rf", ".")
	c5 := f.repo.Commit("rewritten", map[string]string{"new.yaml": "rewritten: true\n"})
	f.repo.Git("branch", "-f", "main", c5)
	f.repo.Git("checkout", "-q", "main")
	f.repo.Git("branch", "-D", "rewritten")
	f.repo.Publish()
	if a = mustFetchRepo(t, main); a.Revision != "main@sha1:"+c5 || readFile(t, a, "new.yaml") != "rewritten: true\n" {
		t.Fatalf("after force-push: %s", a.Revision)
	}
	if _, err := os.Stat(filepath.Join(a.Path, "app.yaml")); !os.IsNotExist(err) {
		t.Fatalf("app.yaml survived a force-push: %v", err)
	}

	// Delete a tag: the tag source fails cleanly, the cache keeps serving others.
	tag, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: cache, Ref: Ref{Tag: "v2.0.0"}})
	must(t, err)
	mustFetchRepo(t, tag)
	f.repo.Git("tag", "-d", "v2.0.0")
	f.repo.Publish()
	if _, err := tag.Fetch(ctx); !errors.Is(err, ErrInvalidRef) {
		t.Fatalf("fetch of a deleted tag = %v, want ErrInvalidRef", err)
	}
	mustFetchRepo(t, main)

	// Old checkouts are pruned.
	dirs, _ := filepath.Glob(filepath.Join(main.dir, "artifacts", "*-*[^t]"))
	if len(dirs) > 3 {
		t.Errorf("%d checkouts kept, want at most 3: %v", len(dirs), dirs)
	}
}

func mustFetchRepo(t *testing.T, r *Repository) *source.Artifact {
	t.Helper()
	a, err := r.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return a
}

func TestFetchThousandCommits(t *testing.T) {
	r := gittest.NewRepo(t, "", "big.git")
	r.Generate(gittest.History{Commits: 1000, Files: 50})
	head := r.Git("rev-parse", "HEAD")
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	shallow := mustFetch(t, Options{URL: srv.URL + "/big.git"})
	full := mustFetch(t, Options{URL: srv.URL + "/big.git", FullHistory: true})
	if shallow.Revision != "main@sha1:"+head || full.Revision != shallow.Revision || full.Digest != shallow.Digest {
		t.Fatalf("shallow %s %s, full %s %s", shallow.Revision, shallow.Digest, full.Revision, full.Digest)
	}
	// A commit deep in history is found by a full fetch of the branch.
	old := r.Git("rev-parse", "HEAD~900")
	a := mustFetch(t, Options{URL: srv.URL + "/big.git", Ref: Ref{Branch: "main", Commit: old}})
	if a.Commit.Message != "commit 100" {
		t.Fatalf("HEAD~900 is %q", a.Commit.Message)
	}
}

func TestFetchServerDiesMidTransfer(t *testing.T) {
	f := newFixture(t)
	f.repo.Generate(gittest.History{Branch: "main", Commits: 3, Files: 400})
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	cache := t.TempDir()
	r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: cache})
	must(t, err)
	srv.FailAfterBytes.Store(20_000)
	if _, err := r.Fetch(context.Background()); err == nil {
		t.Fatal("fetch through a dying server succeeded")
	}
	srv.FailAfterBytes.Store(0)
	a := mustFetchRepo(t, r)
	if a.Revision != "main@sha1:"+f.repo.Git("rev-parse", "HEAD") {
		t.Fatalf("after recovery: %s", a.Revision)
	}
	// And again after an established cache: a dying incremental fetch. The new
	// file must compress to more than the cut (incremental packs are thin).
	var big strings.Builder
	for i := range 10_000 {
		fmt.Fprintf(&big, "%d\n", i*7919%10007)
	}
	c := f.repo.Commit("more", map[string]string{"dir-000/cm-0.yaml": big.String()})
	f.repo.Publish()
	srv.FailAfterBytes.Store(1000)
	if _, err := r.Fetch(context.Background()); err == nil {
		t.Fatal("incremental fetch through a dying server succeeded")
	}
	if st, err := r.openStorage(); err != nil || hasCommit(st, plumbing.NewHash(c)) {
		t.Fatalf("a dying incremental fetch left its commit in the cache (%v)", err)
	}
	srv.FailAfterBytes.Store(0)
	if a = mustFetchRepo(t, r); a.Revision != "main@sha1:"+c {
		t.Fatalf("after recovery: %s", a.Revision)
	}
}

func TestFetchConcurrent(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	revs := make(chan string, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := Ref{}
			if i%2 == 1 {
				ref = Ref{Branch: "feature"}
			}
			r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: cache, Ref: ref})
			if err != nil {
				errs <- err
				return
			}
			a, err := r.Fetch(context.Background())
			if err != nil {
				errs <- err
				return
			}
			revs <- a.Revision
		}()
	}
	wg.Wait()
	close(errs)
	close(revs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]int{}
	for r := range revs {
		seen[r]++
	}
	if seen["main@sha1:"+f.c3] != 4 || seen["feature@sha1:"+f.f1] != 4 {
		t.Fatalf("revisions %v", seen)
	}
}

// TestFetchKilledProcess kills a process holding the cache lock in the middle of a
// fetch; the cache must stay usable and unlocked.
func TestFetchKilledProcess(t *testing.T) {
	if os.Getenv("GITOPSKIT_FETCH_CHILD") != "" {
		r, err := New(Options{URL: os.Getenv("GITOPSKIT_FETCH_URL"), CacheDir: os.Getenv("GITOPSKIT_FETCH_CACHE")})
		if err == nil {
			_, _ = r.Fetch(context.Background())
		}
		return
	}
	r := gittest.NewRepo(t, "", "big.git")
	r.Generate(gittest.History{Commits: 200, Files: 2000})
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	url, cache := srv.URL+"/big.git", t.TempDir()
	for _, delay := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFetchKilledProcess$")
		cmd.Env = append(os.Environ(), "GITOPSKIT_FETCH_CHILD=1", "GITOPSKIT_FETCH_URL="+url, "GITOPSKIT_FETCH_CACHE="+cache)
		must(t, cmd.Start())
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := New(Options{URL: url, CacheDir: cache})
	must(t, err)
	a, err := rep.Fetch(ctx)
	if err != nil {
		t.Fatalf("fetch after killed fetches: %v", err)
	}
	if a.Revision != "main@sha1:"+r.Git("rev-parse", "HEAD") {
		t.Fatal(fmt.Sprint("revision ", a.Revision))
	}
}

func TestFetchContextCancel(t *testing.T) {
	r := gittest.NewRepo(t, "", "big.git")
	r.Generate(gittest.History{Commits: 10, Files: 2000})
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	rep, err := New(Options{URL: srv.URL + "/big.git", CacheDir: t.TempDir()})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := rep.Fetch(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch with an expired context = %v", err)
	}
	// The timeout option applies too.
	rep.opts.Timeout = time.Millisecond
	if _, err := rep.LatestRevision(context.Background()); err == nil {
		t.Fatal("LatestRevision within 1ms succeeded")
	}
	rep.opts.Timeout = time.Minute
	mustFetchRepo(t, rep)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
