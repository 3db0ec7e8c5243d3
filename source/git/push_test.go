package git

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

func TestPush(t *testing.T) {
	f := newFixture(t)
	signer, key := gittest.ClientKey(t, "")
	for _, tc := range []struct {
		name string
		url  func() string
		auth Auth
	}{
		{"http", func() string {
			return gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{Username: "bot", Password: "t0ken"}).URL + "/repo.git"
		}, Auth{Username: "bot", Password: "t0ken"}},
		{"ssh", func() string { return gittest.NewSSHServer(t, f.repo.Root, signer.PublicKey()).URL + "/repo.git" }, Auth{SSHPrivateKey: key}},
		{"git daemon", func() string { return gittest.NewDaemon(t, f.repo.Root).URL + "/repo.git" }, Auth{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			url := tc.url()
			if tc.name == "ssh" {
				tc.auth.InsecureIgnoreHostKey = true
			}
			r, err := New(Options{URL: url, CacheDir: t.TempDir(), Auth: tc.auth})
			must(t, err)
			before := f.repo.Git("--git-dir", f.repo.Bare(), "rev-parse", "main")
			when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
			rev, err := r.Push(ctx, Change{
				Files:   map[string][]byte{"app.yaml": []byte("v: pushed-" + tc.name + "\n"), "deep/new/file.yaml": []byte("n: 1\n"), "README.md": nil},
				Author:  source.Signature{Name: "Bot", Email: "bot@example.com", When: when},
				Message: "update image " + tc.name,
			})
			must(t, err)
			bare := f.repo.Bare()
			head := f.repo.Git("--git-dir", bare, "rev-parse", "main")
			if rev != "main@sha1:"+head || head == before {
				t.Fatalf("Push = %s, remote main is %s", rev, head)
			}
			if got := f.repo.Git("--git-dir", bare, "show", "main:app.yaml"); got != "v: pushed-"+tc.name {
				t.Fatalf("app.yaml = %q", got)
			}
			if f.repo.Git("--git-dir", bare, "rev-parse", "main^") != before {
				t.Fatal("the pushed commit's parent is not the old head")
			}
			if got := f.repo.Git("--git-dir", bare, "log", "-1", "--format=%an <%ae> %aI %s", "main"); got != "Bot <bot@example.com> 2025-01-02T03:04:05+00:00 update image "+tc.name {
				t.Fatalf("commit = %q", got)
			}
			if out := f.repo.Git("--git-dir", bare, "ls-tree", "-r", "--name-only", "main"); strings.Contains(out, "README.md") || !strings.Contains(out, "deep/new/file.yaml") {
				t.Fatalf("tree = %s", out)
			}
			f.repo.Git("--git-dir", bare, "fsck", "--strict")
			// The same change again is a no-op.
			again, err := r.Push(ctx, Change{Files: map[string][]byte{"app.yaml": []byte("v: pushed-" + tc.name + "\n")}, Author: source.Signature{Name: "Bot", Email: "bot@example.com"}, Message: "again"})
			if err != nil || again != rev {
				t.Fatalf("no-op push = %s, %v", again, err)
			}
		})
	}
}

func TestPushNonFastForward(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	ctx := context.Background()
	r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: t.TempDir(), Ref: Ref{Branch: "main"}})
	must(t, err)
	change := Change{Files: map[string][]byte{"x.yaml": []byte("x: 1\n")}, Author: source.Signature{Name: "Bot", Email: "bot@example.com"}, Message: "x"}
	_, err = r.Push(ctx, change)
	must(t, err)

	// Someone else pushes between our read and our push: simulate by racing a
	// second writer that moves the branch from the same base.
	st, err := r.openStorage()
	must(t, err)
	refs, err := r.listRefs(ctx)
	must(t, err)
	base := refs.hashes["refs/heads/main"]
	f.repo.Git("fetch", "-q", f.repo.Bare(), "main")
	f.repo.Git("reset", "-q", "--hard", "FETCH_HEAD")
	f.repo.Commit("concurrent", map[string]string{"y.yaml": "y: 1\n"})
	f.repo.Git("push", "-q", f.repo.Bare(), "HEAD:main")
	parent, err := getCommit(st, base)
	must(t, err)
	next, err := r.commitChange(st, parent, Change{Files: map[string][]byte{"z.yaml": []byte("z\n")}, Author: change.Author, Message: "z"})
	must(t, err)
	err = r.pushCommit(ctx, st, "main", base, next, true)
	if !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("stale push = %v, want ErrNonFastForward", err)
	}
	// A retry through Push reads the new head and succeeds.
	if _, err := r.Push(ctx, Change{Files: map[string][]byte{"z.yaml": []byte("z\n")}, Author: change.Author, Message: "z"}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if out := f.repo.Git("--git-dir", f.repo.Bare(), "ls-tree", "--name-only", "main"); !strings.Contains(out, "y.yaml") || !strings.Contains(out, "z.yaml") {
		t.Fatalf("main lost a change: %s", out)
	}
	// A change computed on an older commit is refused, not committed on the new head.
	stale := Change{Files: map[string][]byte{"w.yaml": []byte("w\n")}, Author: change.Author, Message: "w", Parent: base.String()}
	if _, err := r.Push(ctx, stale); !errors.Is(err, ErrNonFastForward) {
		t.Fatalf("push on a stale parent = %v, want ErrNonFastForward", err)
	}
}

func TestPushNewBranchAndBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := New(Options{URL: f.repo.Bare(), CacheDir: t.TempDir()})
	must(t, err)
	author := source.Signature{Name: "Bot", Email: "bot@example.com"}
	rev, err := r.Push(ctx, Change{Branch: "update/image", Files: map[string][]byte{"a.yaml": []byte("a\n")}, Author: author, Message: "new branch"})
	must(t, err)
	if got := f.repo.Git("--git-dir", f.repo.Bare(), "rev-parse", "update/image^"); got != f.c3 || !strings.HasPrefix(rev, "update/image@sha1:") {
		t.Fatalf("new branch starts at %s (%s)", got, rev)
	}
	for _, p := range []string{"../x", "/abs", "a/../b", ".git/config", "a//b", ""} {
		if _, err := r.Push(ctx, Change{Files: map[string][]byte{p: []byte("x")}, Author: author, Message: "bad"}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if _, err := r.Push(ctx, Change{Files: map[string][]byte{"a": []byte("x")}, Message: "no author"}); err == nil {
		t.Error("a change without author accepted")
	}
}
