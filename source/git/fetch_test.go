package git

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// fixture is a served repository with a known history:
//
//	main:    c1 (app.yaml v1, tag v1.0.0 lightweight) - c2 (v2, annotated tag v1.1.0) - c3 (v3, tag v2.0.0)
//	feature: c2 - f1
type fixture struct {
	repo           *gittest.Repo
	c1, c2, c3, f1 string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	r := gittest.NewRepo(t, "", "repo.git")
	f := &fixture{repo: r}
	f.c1 = r.Commit("one", map[string]string{"app.yaml": "v: 1\n", "README.md": "docs"})
	r.Git("tag", "v1.0.0")
	f.c2 = r.Commit("two", map[string]string{"app.yaml": "v: 2\n"})
	r.Git("tag", "-a", "-m", "release", "v1.1.0")
	r.Git("checkout", "-q", "-b", "feature")
	f.f1 = r.Commit("feature", map[string]string{"app.yaml": "v: feature\n"})
	r.Git("checkout", "-q", "main")
	f.c3 = r.Commit("three", map[string]string{"app.yaml": "v: 3\n"})
	r.Git("tag", "v2.0.0")
	r.Git("update-ref", "refs/pull/7/head", f.f1)
	r.Publish()
	r.Git("push", "-q", r.Bare(), "refs/pull/7/head:refs/pull/7/head")
	return f
}

func fetch(t *testing.T, opts Options) (*source.Artifact, error) {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	r, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r.Fetch(context.Background())
}

func mustFetch(t *testing.T, opts Options) *source.Artifact {
	t.Helper()
	a, err := fetch(t, opts)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return a
}

func readFile(t *testing.T, a *source.Artifact, name string) string {
	t.Helper()
	b, err := fs.ReadFile(a.FS, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func TestFetchRefs(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	url := srv.URL + "/repo.git"
	for _, tc := range []struct {
		name    string
		ref     Ref
		rev     string
		content string
	}{
		{"default branch", Ref{}, "main@sha1:" + f.c3, "v: 3\n"},
		{"branch", Ref{Branch: "feature"}, "feature@sha1:" + f.f1, "v: feature\n"},
		{"lightweight tag", Ref{Tag: "v1.0.0"}, "v1.0.0@sha1:" + f.c1, "v: 1\n"},
		{"annotated tag", Ref{Tag: "v1.1.0"}, "v1.1.0@sha1:" + f.c2, "v: 2\n"},
		{"semver", Ref{SemVer: "~1"}, "v1.1.0@sha1:" + f.c2, "v: 2\n"},
		{"semver highest", Ref{SemVer: ">=1.0.0"}, "v2.0.0@sha1:" + f.c3, "v: 3\n"},
		{"commit", Ref{Commit: f.c1}, "sha1:" + f.c1, "v: 1\n"},
		{"commit on branch", Ref{Branch: "feature", Commit: f.c2}, "feature@sha1:" + f.c2, "v: 2\n"},
		{"refname", Ref{Name: "refs/pull/7/head"}, "refs/pull/7/head@sha1:" + f.f1, "v: feature\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{URL: url, Ref: tc.ref}
			a := mustFetch(t, opts)
			if a.Revision != tc.rev {
				t.Errorf("Revision = %s, want %s", a.Revision, tc.rev)
			}
			if got := readFile(t, a, "app.yaml"); got != tc.content {
				t.Errorf("app.yaml = %q, want %q", got, tc.content)
			}
			if a.Commit == nil || a.Commit.Author.Email != "author@example.com" || !strings.HasPrefix(a.Digest, "sha256:") {
				t.Errorf("metadata = %+v digest %s", a.Commit, a.Digest)
			}
			r, _ := New(Options{URL: url, Ref: tc.ref, CacheDir: t.TempDir()})
			if rev, err := r.LatestRevision(context.Background()); err != nil || rev != tc.rev {
				t.Errorf("LatestRevision = %s, %v; want %s", rev, err, tc.rev)
			}
		})
	}
	for _, ref := range []Ref{{Branch: "nope"}, {Tag: "v9"}, {SemVer: ">=5"}, {Name: "refs/x"}} {
		if _, err := fetch(t, Options{URL: url, Ref: ref}); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("Fetch(%+v) = %v, want ErrInvalidRef", ref, err)
		}
	}
	for _, ref := range []Ref{{Branch: "a", Tag: "b"}, {Commit: "abc"}, {SemVer: "not a range"}, {Tag: "v1", Commit: f.c1}} {
		if _, err := New(Options{URL: url, Ref: ref, CacheDir: t.TempDir()}); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("New(%+v) = %v, want ErrInvalidRef", ref, err)
		}
	}
}

func TestFetchMetadataAndMessage(t *testing.T) {
	f := newFixture(t)
	a := mustFetch(t, Options{URL: f.repo.Bare(), Ref: Ref{Tag: "v1.0.0"}})
	if a.Commit.Hash != f.c1 || a.Commit.Message != "one\n" || a.Commit.Author.Name != "Test Author" ||
		a.Commit.Committer.Name != "Test Committer" || a.Commit.Author.When.Year() != 2024 {
		t.Fatalf("commit = %+v", a.Commit)
	}
}

func TestFetchTransports(t *testing.T) {
	f := newFixture(t)
	daemon := gittest.NewDaemon(t, f.repo.Root)
	signer, key := gittest.ClientKey(t, "s3cret-pass")
	sshSrv := gittest.NewSSHServer(t, f.repo.Root, signer.PublicKey())
	tlsSrv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{TLS: true, Username: "u", Password: "pw-123"})
	tokSrv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{BearerToken: "tok-456"})
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"local path", Options{URL: f.repo.Bare()}},
		{"file URL", Options{URL: "file://" + f.repo.Bare()}},
		{"git daemon", Options{URL: daemon.URL + "/repo.git"}},
		{"ssh", Options{URL: sshSrv.URL + "/repo.git", Auth: Auth{SSHPrivateKey: key, SSHPassphrase: "s3cret-pass", KnownHosts: sshSrv.KnownHosts}}},
		{"https basic", Options{URL: tlsSrv.URL + "/repo.git", Auth: Auth{Username: "u", Password: "pw-123", CABundle: tlsSrv.CAPEM}}},
		{"https credentials in URL", Options{URL: strings.Replace(tlsSrv.URL, "://", "://u:pw-123@", 1) + "/repo.git", Auth: Auth{CABundle: tlsSrv.CAPEM}}},
		{"bearer token", Options{URL: tokSrv.URL + "/repo.git", Auth: Auth{BearerToken: "tok-456"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustFetch(t, tc.opts)
			if a.Revision != "main@sha1:"+f.c3 || readFile(t, a, "app.yaml") != "v: 3\n" {
				t.Fatalf("artifact %s", a.Revision)
			}
			if strings.Contains(a.Revision, "pw-123") {
				t.Fatal("credentials in the revision")
			}
		})
	}
}

func TestFetchRefusals(t *testing.T) {
	f := newFixture(t)
	signer, key := gittest.ClientKey(t, "")
	sshSrv := gittest.NewSSHServer(t, f.repo.Root, signer.PublicKey())
	other := gittest.NewSSHServer(t, f.repo.Root, signer.PublicKey())
	basic := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{Username: "u", Password: "right-password"})
	tlsSrv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{TLS: true})

	_, err := fetch(t, Options{URL: strings.Replace(basic.URL, "://", "://u:wrong-password@", 1) + "/repo.git"})
	if !errors.Is(err, transport.ErrAuthenticationRequired) && !errors.Is(err, transport.ErrAuthorizationFailed) {
		t.Errorf("wrong password: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error leaks the password: %v", err)
	}
	if _, err := fetch(t, Options{URL: basic.URL + "/repo.git"}); !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Errorf("no credentials: %v", err)
	}
	_, err = fetch(t, Options{URL: sshSrv.URL + "/repo.git", Auth: Auth{SSHPrivateKey: key, KnownHosts: other.KnownHosts}})
	if !errors.Is(err, ErrUnknownHostKey) {
		t.Errorf("unknown host key: %v", err)
	}
	if _, err := New(Options{URL: sshSrv.URL + "/repo.git", CacheDir: t.TempDir(), Auth: Auth{SSHPrivateKey: key}}); !errors.Is(err, ErrKnownHostsRequired) {
		t.Errorf("no known hosts: %v", err)
	}
	mustFetch(t, Options{URL: sshSrv.URL + "/repo.git", Auth: Auth{SSHPrivateKey: key, InsecureIgnoreHostKey: true}})
	_, wrongKey := gittest.ClientKey(t, "")
	if _, err := fetch(t, Options{URL: sshSrv.URL + "/repo.git", Auth: Auth{SSHPrivateKey: wrongKey, KnownHosts: sshSrv.KnownHosts}}); err == nil {
		t.Error("an unauthorized SSH key fetched")
	}
	if _, err := fetch(t, Options{URL: tlsSrv.URL + "/repo.git"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted TLS certificate: %v", err)
	}
}

func TestFetchEmptyRepository(t *testing.T) {
	r := gittest.NewRepo(t, "", "empty.git")
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	_, err := fetch(t, Options{URL: srv.URL + "/empty.git"})
	if !errors.Is(err, ErrEmptyRepository) {
		t.Fatalf("Fetch = %v, want ErrEmptyRepository", err)
	}
	rep, _ := New(Options{URL: srv.URL + "/empty.git", CacheDir: t.TempDir()})
	if _, err := rep.LatestRevision(context.Background()); !errors.Is(err, ErrEmptyRepository) {
		t.Fatalf("LatestRevision = %v, want ErrEmptyRepository", err)
	}
}
