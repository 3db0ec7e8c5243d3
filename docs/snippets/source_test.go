package snippets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// snippet: source-git
// Poll fetches the repository when its branch moved since lastRevision, and
// returns the new artifact, or nil when nothing changed.
func Poll(ctx context.Context, url, token, cacheDir, lastRevision string) (*source.Artifact, error) {
	repo, err := git.New(git.Options{
		URL:      url,
		Ref:      git.Ref{Branch: "main"}, // or Tag, SemVer: ">=1.0.0 <2", Commit, Name
		Auth:     git.Auth{BearerToken: token},
		CacheDir: cacheDir,          // shared safely between goroutines and processes
		Ignore:   "/*\n!/deploy/\n", // keep only deploy/ (gitignore syntax)
		Timeout:  time.Minute,
	})
	if err != nil {
		return nil, err
	}
	// One ls-remote round trip, no object transfer.
	rev, err := repo.LatestRevision(ctx)
	if err != nil {
		return nil, err // credentials never appear in errors
	}
	if rev == lastRevision {
		return nil, nil
	}
	return repo.Fetch(ctx) // shallow clone first, incremental fetch after
}

// end snippet

func TestPoll(t *testing.T) {
	r := gittest.NewRepo(t, "", "apps.git")
	r.Commit("first", map[string]string{"deploy/app.yaml": "kind: ConfigMap\n", "docs/x.md": "x\n"})
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{BearerToken: "s3cret"})
	url, cache := srv.URL+"/"+r.Name, t.TempDir()
	ctx := context.Background()

	a, err := Poll(ctx, url, "s3cret", cache, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Revision, "main@sha1:") {
		t.Errorf("revision %q", a.Revision)
	}
	if _, err := fs.Stat(a.FS, "docs/x.md"); err == nil {
		t.Error("the ignore pattern kept docs/")
	}
	if _, err := fs.Stat(a.FS, "deploy/app.yaml"); err != nil {
		t.Error(err)
	}
	if again, err := Poll(ctx, url, "s3cret", cache, a.Revision); err != nil || again != nil {
		t.Errorf("an unchanged branch was fetched again: %v, %v", again, err)
	}
	_, err = Poll(ctx, url, "wrong-token", cache, "")
	if err == nil || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("a bad token: error %v", err)
	}
}

func Example_sourceLocal() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644)

	// snippet: source-local
	src := source.Local{Dir: dir} // a directory on disk, for development loops
	art, err := src.Fetch(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := fs.ReadFile(art.FS, "app.yaml") // art.FS cannot leave the directory
	fmt.Print(string(data))
	fmt.Println(art.Revision == art.Digest, strings.HasPrefix(art.Revision, "sha256:"))

	// A symbolic link leaving the directory makes the source refuse it.
	_ = os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	_, err = src.Fetch(context.Background())
	fmt.Println(errors.Is(err, source.ErrSymlinkEscape))
	// end snippet

	// Output:
	// kind: ConfigMap
	// true true
	// true
}

func Example_sourceRevision() {
	// snippet: source-revision
	r, err := source.ParseRevision("main@sha1:8f4bd0b1e1aa0bd9d6e1ad0b4b1b6a3c7a07c6a1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Ref, r.Algorithm, r.Hash[:7])
	_, err = source.ParseRevision("main@8f4bd0b")
	fmt.Println(err)
	// end snippet

	// Output:
	// main sha1 8f4bd0b
	// revision "main@8f4bd0b": want <algorithm>:<hash>: invalid revision
}
