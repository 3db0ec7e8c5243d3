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
	srv := gittest.NewHTTPServer(t, root, gittest.HTTPOptions{Username: "u", Password: "p4ss"})
	lib := gittest.NewRepo(t, root, "lib.git")
	lib.Commit("lib", map[string]string{"lib.yaml": "lib: 1\n"})
	lib.Publish()
	app := gittest.NewRepo(t, root, "app.git")
	app.Commit("app", map[string]string{"app.yaml": "app: 1\n"})
	// The CLI clones the submodule from disk; .gitmodules then names the server.
	app.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", lib.Bare(), "vendor/lib")
	app.Git("config", "-f", ".gitmodules", "submodule.vendor/lib.url", srv.URL+"/lib.git")
	app.Commit("with submodule", nil)
	app.Git("branch", "absolute")
	// Relative URL, as forges recommend.
	app.Git("config", "-f", ".gitmodules", "submodule.vendor/lib.url", "../lib.git")
	app.Commit("relative submodule url", nil)
	app.Publish()
	opts := Options{URL: srv.URL + "/app.git", Auth: Auth{Username: "u", Password: "p4ss"}, Ref: Ref{Branch: "absolute"}}
	without := mustFetch(t, opts)
	if _, err := os.Stat(filepath.Join(without.Path, "vendor/lib/lib.yaml")); !os.IsNotExist(err) {
		t.Fatalf("submodule checked out without asking: %v", err)
	}
	opts.Submodules = true
	with := mustFetch(t, opts)
	if readFile(t, with, "vendor/lib/lib.yaml") != "lib: 1\n" || readFile(t, with, "app.yaml") != "app: 1\n" {
		t.Fatal("submodule content missing")
	}
	opts.Ref = Ref{}
	if _, err := fetch(t, opts); !errors.Is(err, ErrSubmoduleURL) || !strings.Contains(err.Error(), "RelativeSubmodules") {
		t.Fatalf("a relative URL without RelativeSubmodules: %v", err)
	}
	opts.RelativeSubmodules = true
	rel := mustFetch(t, opts)
	if readFile(t, rel, "vendor/lib/lib.yaml") != "lib: 1\n" {
		t.Fatal("submodule at a relative URL missing")
	}
}

// TestSubmoduleURLsStayRemote: a submodule cannot read a repository on the local
// disk (here another tenant's private repository in a shared cache, at the
// commit the attacker names), nor downgrade HTTPS to plain HTTP.
func TestSubmoduleURLsStayRemote(t *testing.T) {
	private := gittest.NewRepo(t, "", "private.git")
	secret := private.Commit("private", map[string]string{"secret.yaml": "token: tenant-a\n"})
	private.Publish()
	privSrv := gittest.NewHTTPServer(t, private.Root, gittest.HTTPOptions{Username: "a", Password: "tenant-a-pass"})
	shared := t.TempDir()
	mustFetch(t, Options{URL: privSrv.URL + "/private.git", Auth: Auth{Username: "a", Password: "tenant-a-pass"}, CacheDir: shared})
	cached, _ := filepath.Glob(filepath.Join(shared, "*", "repo"))
	if len(cached) != 1 {
		t.Fatalf("cache holds %v", cached)
	}

	root := t.TempDir()
	tlsSrv := gittest.NewHTTPServer(t, root, gittest.HTTPOptions{TLS: true})
	plain := gittest.NewHTTPServer(t, root, gittest.HTTPOptions{})
	lib := gittest.NewRepo(t, root, "lib.git")
	lib.Commit("lib", map[string]string{"lib.yaml": "lib: 1\n"})
	lib.Publish()
	app := gittest.NewRepo(t, root, "app.git")
	app.Commit("app", map[string]string{"app.yaml": "app: 1\n"})
	link := func(branch, url, commit string) {
		app.Git("checkout", "-q", "-b", branch, "main")
		if err := os.MkdirAll(filepath.Join(app.Work, "vendor", "x"), 0o755); err != nil { // an uninitialized submodule
			t.Fatal(err)
		}
		app.Git("config", "-f", ".gitmodules", "submodule.vendor/x.path", "vendor/x")
		app.Git("config", "-f", ".gitmodules", "submodule.vendor/x.url", url)
		app.Git("update-index", "--add", "--cacheinfo", "160000,"+commit+",vendor/x")
		app.Commit(branch, nil)
	}
	libHead := lib.Git("rev-parse", "HEAD")
	link("file-url", "file://"+cached[0], secret)
	link("local-path", cached[0], secret)
	link("http-under-https", plain.URL+"/lib.git", libHead)
	link("relative", "../lib.git", libHead)
	app.Git("checkout", "-q", "main")
	app.Publish()
	opts := Options{URL: tlsSrv.URL + "/app.git", Auth: Auth{CABundle: tlsSrv.CAPEM}, Submodules: true, RelativeSubmodules: true}
	for _, branch := range []string{"file-url", "local-path", "http-under-https"} {
		opts.Ref = Ref{Branch: branch}
		a, err := fetch(t, opts)
		if err == nil {
			_, leak := os.Stat(filepath.Join(a.Path, "vendor/x/secret.yaml"))
			t.Errorf("%s: fetched (the other tenant's secret.yaml present: %v)", branch, leak == nil)
			continue
		}
		if !errors.Is(err, ErrSubmoduleURL) || !strings.Contains(err.Error(), "submodule vendor/x") {
			t.Errorf("%s: %v", branch, err)
		}
	}
	opts.Ref = Ref{Branch: "relative"}
	if a := mustFetch(t, opts); readFile(t, a, "vendor/x/lib.yaml") != "lib: 1\n" {
		t.Error("relative submodule under an HTTPS parent missing")
	}
	local := Options{URL: app.Bare(), Ref: Ref{Branch: "relative"}, Submodules: true, RelativeSubmodules: true}
	if _, err := fetch(t, local); !errors.Is(err, ErrSubmoduleURL) || !strings.Contains(err.Error(), "remote parent") {
		t.Errorf("relative URL under a local parent: %v", err)
	}
}

func TestResolveRelativeSubmoduleURL(t *testing.T) {
	for _, tc := range []struct{ parent, sub, want string }{
		{"https://host/org/app.git", "../lib.git", "https://host/org/lib.git"},
		{"https://host/org/app.git/", "./lib.git", "https://host/org/app.git/lib.git"},
		{"https://host/app.git", "../../../lib.git", "https://host/lib.git"},
		{"ssh://git@host:2222/org/app.git", "../lib.git", "ssh://git@host:2222/org/lib.git"},
		{"git@host:org/app.git", "../lib.git", "git@host:org/lib.git"},
		{"git@host:/srv/app.git", "../../lib.git", "git@host:/lib.git"},
		{"git@host:app.git", "../../lib.git", ""},
		{"/srv/git/app.git", "../lib.git", ""},
		{"file:///srv/git/app.git", "../lib.git", ""},
	} {
		got, err := resolveRelative(tc.parent, tc.sub)
		if tc.want == "" {
			if !errors.Is(err, ErrSubmoduleURL) {
				t.Errorf("resolveRelative(%q, %q) = %q, %v; want ErrSubmoduleURL", tc.parent, tc.sub, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("resolveRelative(%q, %q) = %q, %v; want %q", tc.parent, tc.sub, got, err, tc.want)
		}
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
