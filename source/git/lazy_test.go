package git

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// lazyRepo commits a tree exercising what a checkout decides: nested directories,
// an executable, links to files and directories (chained, dangling, through a
// directory link), ignore files and a gitlink.
func lazyRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	r := gittest.NewRepo(t, "", "repo.git")
	r.WriteFiles(map[string]string{
		".sourceignore":        "*.md\n/tests/\n",
		"README.md":            "docs",
		"tests/e2e.yaml":       "x",
		"deploy/app.yaml":      "app: 1\n",
		"deploy/.sourceignore": "local-*.yaml\n",
		"deploy/local-1.yaml":  "local",
		"deploy/nested/b.yaml": "b: 2\n",
		"bin/run.sh":           "#!/bin/sh\n",
		"big/blob.bin":         strings.Repeat("b", 4096),
		"link.yaml":            "->deploy/app.yaml",
		"dirlink":              "->deploy",
		"chain.yaml":           "->link.yaml",
		"through.yaml":         "->dirlink/nested/b.yaml",
		"deploy/up.yaml":       "->../bin/run.sh",
		"dangling.yaml":        "->deploy/missing.yaml",
	})
	must(t, os.Chmod(filepath.Join(r.Work, "bin", "run.sh"), 0o755))
	r.Git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("1", 40)+",vendor/lib")
	r.Commit("tree", nil)
	r.Publish()
	return r
}

func TestCheckoutLazyMatchesDirectory(t *testing.T) {
	r := lazyRepo(t)
	for _, ignore := range []string{"", "/big/\n", "/*\n!/deploy/\n"} {
		dir := mustFetch(t, Options{URL: r.Bare(), Ignore: ignore})
		lazy := mustFetch(t, Options{URL: r.Bare(), Ignore: ignore, Checkout: CheckoutLazy})
		if lazy.Path != "" || lazy.Revision != dir.Revision || lazy.Commit.Hash != dir.Commit.Hash {
			t.Fatalf("lazy artifact %+v, directory %+v", lazy, dir)
		}
		if lazy.Digest != dir.Digest {
			t.Errorf("ignore %q: lazy digest %s, directory %s", ignore, lazy.Digest, dir.Digest)
		}
		if d, err := source.Digest(context.Background(), lazy.FS); err != nil || d != lazy.Digest {
			t.Errorf("ignore %q: Digest(lazy FS) = %s, %v; artifact says %s", ignore, d, err, lazy.Digest)
		}
		var files []string
		err := fs.WalkDir(dir.FS, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			files = append(files, p)
			sameEntry(t, dir.FS, lazy.FS, p)
			return nil
		})
		must(t, err)
		var lazyFiles []string
		must(t, fs.WalkDir(lazy.FS, ".", func(p string, _ fs.DirEntry, err error) error {
			lazyFiles = append(lazyFiles, p)
			return err
		}))
		if strings.Join(files, " ") != strings.Join(lazyFiles, " ") {
			t.Errorf("ignore %q: directory holds\n%v\nlazy holds\n%v", ignore, files, lazyFiles)
		}
		// Paths that are not there, or leave the root, fail as they do in a directory.
		for _, p := range []string{"README.md", "dangling.yaml", "../x", "/etc/passwd", "deploy/app.yaml/x", "dirlink/../../x"} {
			_, derr := fs.ReadFile(dir.FS, p)
			_, lerr := fs.ReadFile(lazy.FS, p)
			if derr == nil || lerr == nil || errors.Is(derr, fs.ErrNotExist) != errors.Is(lerr, fs.ErrNotExist) {
				t.Errorf("ignore %q: read %s: directory %v, lazy %v", ignore, p, derr, lerr)
			}
		}
	}
	// fstest opens every entry, so leave out the dangling link.
	lazy := mustFetch(t, Options{URL: r.Bare(), Checkout: CheckoutLazy, Ignore: "/dangling.yaml\n"})
	if err := fstest.TestFS(lazy.FS, "deploy/app.yaml", "deploy/nested/b.yaml", "deploy/up.yaml", "bin/run.sh", "link.yaml", "through.yaml"); err != nil {
		t.Fatal(err)
	}
}

// sameEntry compares p in two file systems: type, permissions, size, content,
// link target, and what following links gives.
func sameEntry(t *testing.T, want, got fs.FS, p string) {
	t.Helper()
	wl, err := fs.Lstat(want, p)
	must(t, err)
	gl, err := fs.Lstat(got, p)
	if err != nil {
		t.Errorf("lazy lstat %s: %v", p, err)
		return
	}
	if p == "." { // a directory checkout's root has MkdirTemp's permissions
		wl, gl = typeOnly{wl}, typeOnly{gl}
	}
	if wl.Mode() != gl.Mode() || (wl.Mode().IsRegular() && wl.Size() != gl.Size()) || wl.Name() != gl.Name() {
		t.Errorf("%s: directory %v %d %s, lazy %v %d %s", p, wl.Mode(), wl.Size(), wl.Name(), gl.Mode(), gl.Size(), gl.Name())
	}
	if wl.Mode()&fs.ModeSymlink != 0 {
		wt, _ := fs.ReadLink(want, p)
		if gt, err := fs.ReadLink(got, p); err != nil || gt != wt {
			t.Errorf("%s: link to %q, lazy %q, %v", p, wt, gt, err)
		}
	}
	ws, werr := fs.Stat(want, p)
	gs, gerr := fs.Stat(got, p)
	if p == "." {
		ws, gs = typeOnly{ws}, typeOnly{gs}
	}
	if (werr == nil) != (gerr == nil) || werr == nil && ws.Mode() != gs.Mode() {
		t.Errorf("%s: stat directory %v %v, lazy %v %v", p, ws, werr, gs, gerr)
	}
	if werr == nil && ws.Mode().IsRegular() {
		wb, _ := fs.ReadFile(want, p)
		if gb, err := fs.ReadFile(got, p); err != nil || !bytes.Equal(wb, gb) {
			t.Errorf("%s: content %q, lazy %q, %v", p, wb, gb, err)
		}
	}
}

type typeOnly struct{ fs.FileInfo }

func (i typeOnly) Mode() fs.FileMode { return i.FileInfo.Mode().Type() }

func TestCheckoutLazyRefusals(t *testing.T) {
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("escape", map[string]string{"base/a.yaml": "a", "base/evil.yaml": "->../../etc/passwd"})
	r.Git("branch", "escape")
	r.Commit("loop", map[string]string{"base/evil.yaml": gittest.Delete, "l1": "->l2", "l2": "->l1"})
	r.Git("branch", "loop")
	r.Commit("absolute", map[string]string{"l1": gittest.Delete, "l2": gittest.Delete, "abs": "->/etc/passwd"})
	r.Publish()
	opts := Options{URL: r.Bare(), Checkout: CheckoutLazy}
	for branch, link := range map[string]string{"escape": "base/evil.yaml", "loop": "l1", "main": "abs"} {
		opts.Ref = Ref{Branch: branch}
		_, err := fetch(t, opts)
		var se *source.SymlinkError
		if !errors.As(err, &se) || se.Link != link {
			t.Errorf("%s: %v, want a SymlinkError for %s", branch, err, link)
		}
	}
	opts.Ref, opts.MaxSize = Ref{Branch: "escape"}, 1
	if _, err := fetch(t, opts); !errors.Is(err, ErrSizeLimit) {
		t.Errorf("size limit: %v", err)
	}
	if _, err := New(Options{URL: r.Bare(), CacheDir: t.TempDir(), Checkout: CheckoutLazy, Submodules: true}); err == nil {
		t.Error("CheckoutLazy with Submodules accepted")
	}
}

// TestCheckoutLazyIncremental: a held artifact keeps its content when the branch
// moves; nothing is written besides the object cache; reads are safe from many
// goroutines.
func TestCheckoutLazyIncremental(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	cache := t.TempDir()
	r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: cache, Checkout: CheckoutLazy})
	must(t, err)
	old := mustFetchRepo(t, r)
	if again := mustFetchRepo(t, r); again.FS != old.FS || again.Digest != old.Digest {
		t.Error("an unchanged fetch made a new artifact")
	}
	c4 := f.repo.Commit("four", map[string]string{"app.yaml": "v: 4\n", "new/x.yaml": "x: 1\n", "README.md": gittest.Delete})
	f.repo.Publish()
	a := mustFetchRepo(t, r)
	if a.Revision != "main@sha1:"+c4 || readFile(t, a, "app.yaml") != "v: 4\n" || readFile(t, a, "new/x.yaml") != "x: 1\n" {
		t.Fatalf("after a new commit: %s", a.Revision)
	}
	if _, err := fs.Stat(a.FS, "README.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("deleted README.md: %v", err)
	}
	if readFile(t, old, "app.yaml") != "v: 3\n" || readFile(t, old, "README.md") != "docs" {
		t.Error("the held artifact changed")
	}
	dir := mustFetch(t, Options{URL: srv.URL + "/repo.git"})
	if dir.Digest != a.Digest {
		t.Errorf("incremental lazy digest %s, directory %s", a.Digest, dir.Digest)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "artifacts")); !os.IsNotExist(err) {
		t.Errorf("lazy checkouts wrote artifacts: %v", err)
	}
	// Another Repository (as another process would) builds its own index.
	other, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: cache, Checkout: CheckoutLazy})
	must(t, err)
	if b := mustFetchRepo(t, other); b.Digest != a.Digest || readFile(t, b, "app.yaml") != "v: 4\n" {
		t.Errorf("second Repository: %s %s", b.Revision, b.Digest)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fsys, want := a.FS, "v: 4\n"
			if i%2 == 1 {
				fsys, want = old.FS, "v: 3\n"
			}
			for range 20 {
				if b, err := fs.ReadFile(fsys, "app.yaml"); err != nil || string(b) != want {
					t.Errorf("concurrent read: %q, %v", b, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
