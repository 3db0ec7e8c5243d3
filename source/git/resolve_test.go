package git

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// TestResolveCommit resolves revision expressions over smart HTTP as `git
// rev-parse` does in a clone: ancestry on a branch and on HEAD, an abbreviated
// hash, a tag; then fetches the commit it names.
func TestResolveCommit(t *testing.T) {
	testtool.Require(t, "git")
	repo := gittest.NewRepo(t, "", "r.git")
	for i := range 4 {
		repo.Commit("c", map[string]string{"f.yaml": strings.Repeat("x", i+1)})
	}
	repo.Git("tag", "v1", "HEAD~1")
	repo.Git("checkout", "-q", "-b", "feature", "HEAD~2")
	repo.Commit("on feature", map[string]string{"g.yaml": "y"})
	repo.Git("checkout", "-q", "main")
	repo.Publish()
	srv := gittest.NewHTTPServer(t, repo.Root, gittest.HTTPOptions{})
	r, err := New(Options{URL: srv.URL + "/r.git", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	short := repo.Git("rev-parse", "--short=7", "main~2")
	for _, rev := range []string{"main~3", "HEAD^", "HEAD", "feature^", "v1", "v1~1", short} {
		want := repo.Git("rev-parse", rev+"^{commit}")
		got, err := r.ResolveCommit(ctx, rev)
		if err != nil || got != want {
			t.Errorf("ResolveCommit(%q) = %q, %v; want %s", rev, got, err, want)
		}
	}
	for _, rev := range []string{"main~9", "nosuch", "deadbee"} {
		if got, err := r.ResolveCommit(ctx, rev); !errors.Is(err, ErrInvalidRef) || !strings.Contains(err.Error(), rev) {
			t.Errorf("ResolveCommit(%q) = %q, %v; want ErrInvalidRef naming it", rev, got, err)
		}
	}
	h, err := r.ResolveCommit(ctx, "main~3")
	if err != nil {
		t.Fatal(err)
	}
	fr, err := New(Options{URL: srv.URL + "/r.git", CacheDir: r.opts.CacheDir, Ref: Ref{Commit: h}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := fr.Fetch(ctx)
	if err != nil || !strings.HasSuffix(a.Revision, h) {
		t.Fatalf("fetch of the resolved commit: %v, %v", a, err)
	}
}
