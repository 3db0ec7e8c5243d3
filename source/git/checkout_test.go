package git

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

func TestCheckoutSymlinks(t *testing.T) {
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("inside", map[string]string{"base/a.yaml": "a: 1\n", "link.yaml": "->base/a.yaml", "dirlink": "->base"})
	r.Git("branch", "inside")
	r.Commit("escape", map[string]string{"base/evil.yaml": "->../../../../etc/passwd"})
	r.Publish()
	a := mustFetch(t, Options{URL: r.Bare(), Ref: Ref{Branch: "inside"}})
	if readFile(t, a, "link.yaml") != "a: 1\n" || readFile(t, a, "dirlink/a.yaml") != "a: 1\n" {
		t.Fatal("links inside the checkout do not resolve")
	}
	_, err := fetch(t, Options{URL: r.Bare()})
	var se *source.SymlinkError
	if !errors.As(err, &se) || se.Link != "base/evil.yaml" || !strings.Contains(err.Error(), "base/evil.yaml") {
		t.Fatalf("escaping symlink: %v", err)
	}
}

func TestCheckoutIgnoreAndLimits(t *testing.T) {
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("tree", map[string]string{
		".sourceignore":        "*.md\n/tests/\n",
		"README.md":            "docs",
		"tests/e2e.yaml":       "x",
		"deploy/app.yaml":      "app",
		"deploy/.sourceignore": "local-*.yaml\n",
		"deploy/local-1.yaml":  "local",
		"other/x.yaml":         "x",
		"big/blob.bin":         strings.Repeat("b", 4096),
	})
	r.Publish()
	a := mustFetch(t, Options{URL: r.Bare(), Ignore: "/big/\n"})
	for p, want := range map[string]bool{"README.md": false, "tests": false, "deploy/app.yaml": true,
		"deploy/local-1.yaml": false, "other/x.yaml": true, "big": false, ".sourceignore": true} {
		_, err := os.Lstat(filepath.Join(a.Path, p))
		if got := err == nil; got != want {
			t.Errorf("%s present = %v, want %v", p, got, want)
		}
	}
	only := mustFetch(t, Options{URL: r.Bare(), Ignore: "/*\n!/deploy/\n"})
	entries, _ := os.ReadDir(only.Path)
	if len(entries) != 1 || entries[0].Name() != "deploy" {
		t.Errorf("include-only checkout holds %v", entries)
	}
	if only.Digest == a.Digest {
		t.Error("different checkouts share a digest")
	}
	if _, err := fetch(t, Options{URL: r.Bare(), MaxSize: 1000}); !errors.Is(err, ErrSizeLimit) {
		t.Errorf("size limit: %v", err)
	}
	if _, err := fetch(t, Options{URL: r.Bare(), Ignore: "[bad"}); err == nil || !strings.Contains(err.Error(), "Options.Ignore:1") {
		t.Errorf("bad ignore pattern: %v", err)
	}
}

func TestCheckoutSubmodules(t *testing.T) {
	root := t.TempDir()
	lib := gittest.NewRepo(t, root, "lib.git")
	lib.Commit("lib", map[string]string{"lib.yaml": "lib: 1\n"})
	lib.Publish()
	app := gittest.NewRepo(t, root, "app.git")
	app.Commit("app", map[string]string{"app.yaml": "app: 1\n"})
	app.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", lib.Bare(), "vendor/lib")
	app.Commit("with submodule", nil)
	// Relative URL, as forges recommend.
	app.Git("config", "-f", ".gitmodules", "submodule.vendor/lib.url", "../lib.git")
	app.Commit("relative submodule url", nil)
	app.Publish()
	srv := gittest.NewHTTPServer(t, root, gittest.HTTPOptions{Username: "u", Password: "p4ss"})
	opts := Options{URL: srv.URL + "/app.git", Auth: Auth{Username: "u", Password: "p4ss"}}
	without := mustFetch(t, opts)
	if _, err := os.Stat(filepath.Join(without.Path, "vendor/lib/lib.yaml")); !os.IsNotExist(err) {
		t.Fatalf("submodule checked out without asking: %v", err)
	}
	opts.Submodules = true
	with := mustFetch(t, opts)
	if readFile(t, with, "vendor/lib/lib.yaml") != "lib: 1\n" || readFile(t, with, "app.yaml") != "app: 1\n" {
		t.Fatal("submodule content missing")
	}
}

// TestCheckoutDigestUnambiguous: two commits whose trees differ only in where a
// newline falls (in a link's target, or in a file's name) have different digests
// in both checkout modes, each equal to Digest over the checkout.
func TestCheckoutDigestUnambiguous(t *testing.T) {
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("one", map[string]string{"a": "->t\nf b", "c": "same"})
	r.Git("branch", "one")
	r.Commit("two", map[string]string{"a": "->t", "c": gittest.Delete, "b\nf c": "same"})
	r.Publish()
	for _, mode := range []Checkout{CheckoutDirectory, CheckoutLazy} {
		one := mustFetch(t, Options{URL: r.Bare(), Ref: Ref{Branch: "one"}, Checkout: mode})
		two := mustFetch(t, Options{URL: r.Bare(), Checkout: mode})
		if one.Digest == two.Digest {
			t.Errorf("checkout %d: two different trees share the digest %s", mode, one.Digest)
		}
		for _, a := range []*source.Artifact{one, two} {
			if d, err := source.Digest(context.Background(), a.FS); err != nil || d != a.Digest {
				t.Errorf("checkout %d: Digest(FS) = %s, %v; the artifact says %s", mode, d, err, a.Digest)
			}
		}
	}
}
