package git

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// TestRedactURL: the exported redactor is internal/redact's, which tests every
// form; here the Git ones.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@host/r.git": "https://***@host/r.git",
		"ssh://git@host/r.git":        "ssh://git@host/r.git",
		"alice:tok@host:r.git":        "alice:***@host:r.git",
		"git@github.com:org/r.git":    "git@github.com:org/r.git",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorsNeverHoldCredentials(t *testing.T) {
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("one", nil)
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{Username: "u", Password: "right"})
	const secret = "sup3r-s3cret-token"
	_, key := gittest.ClientKey(t, "")
	for _, opts := range []Options{
		{URL: "alice:" + secret + "@127.0.0.1:1:repo.git", Auth: Auth{SSHPrivateKey: key, InsecureIgnoreHostKey: true}},
		{URL: "https://u:" + secret + "@127.0.0.1:1/repo.git"},
		{URL: "http://" + secret + "@" + strings.TrimPrefix(srv.URL, "http://") + "/repo.git"},
		{URL: srv.URL + "/repo.git", Auth: Auth{Username: "u", Password: secret}},
		{URL: srv.URL + "/repo.git", Auth: Auth{BearerToken: secret}},
		{URL: srv.URL + "/missing.git", Auth: Auth{Username: "u", Password: "right"}, Ref: Ref{Branch: secret}},
	} {
		opts.CacheDir = t.TempDir()
		rep, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rep.URL(), secret) {
			t.Errorf("URL() = %s", rep.URL())
		}
		_, ferr := rep.Fetch(context.Background())
		_, lerr := rep.LatestRevision(context.Background())
		for _, err := range []error{ferr, lerr} {
			if err == nil {
				t.Errorf("%s: no error", RedactURL(opts.URL))
				continue
			}
			if opts.Ref.Branch == "" && strings.Contains(err.Error(), secret) {
				t.Errorf("error holds the secret: %v", err)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if opts.Ref.Branch == "" && strings.Contains(e.Error(), secret) {
					t.Errorf("wrapped error holds the secret: %v", e)
				}
			}
		}
	}
}

func TestHighestTag(t *testing.T) {
	tags := []string{"v1.0.0", "1.2.0", "v1.2.0", "v1.10.0-rc.1", "v1.9.3", "latest", "v2.0.0"}
	for c, want := range map[string]string{
		"1.x":              "v1.9.3",
		">=1.0.0 <2":       "v1.9.3",
		"~1.2":             "v1.2.0",
		">=1.10.0-rc.0 <2": "v1.10.0-rc.1",
		"*":                "v2.0.0",
	} {
		got, err := highestTag(c, tags)
		if err != nil || got != want {
			t.Errorf("highestTag(%q) = %s, %v; want %s", c, got, err, want)
		}
	}
	if _, err := highestTag(">=3", tags); !errors.Is(err, ErrInvalidRef) {
		t.Errorf("no match: %v", err)
	}
}

func FuzzHighestTag(f *testing.F) {
	f.Add(">=1.0.0", "v1.0.0,v2.0.0,junk")
	f.Add("~1.2 || ^3", "1.2.9,3.1.0-rc.1")
	f.Fuzz(func(t *testing.T, constraint, tagList string) {
		tags := strings.Split(tagList, ",")
		got, err := highestTag(constraint, tags)
		if err != nil {
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("error %v does not wrap ErrInvalidRef", err)
			}
			return
		}
		found := false
		for _, tag := range tags {
			found = found || tag == got
		}
		if !found {
			t.Fatalf("highestTag returned %q, not one of the tags", got)
		}
	})
}
