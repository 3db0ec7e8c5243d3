package git_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
)

// exampleRepo makes a bare repository with one commit tagged v1.0.0, using the git
// CLI, and returns its path.
func exampleRepo(dir string) string {
	work, bare := filepath.Join(dir, "work"), filepath.Join(dir, "repo.git")
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_AUTHOR_DATE=2024-01-02T03:04:05Z",
			"GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			panic(fmt.Sprint(args, err, string(out)))
		}
	}
	_ = os.MkdirAll(filepath.Join(work, "deploy"), 0o755)
	_ = os.WriteFile(filepath.Join(work, "deploy", "app.yaml"), []byte("kind: ConfigMap\n"), 0o644)
	run("init", "-q", "-b", "main")
	run("add", ".")
	run("commit", "-q", "-m", "first")
	run("tag", "v1.0.0")
	run("clone", "-q", "--bare", ".", bare)
	return bare
}

func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	url := exampleRepo(dir) // any URL works: https://, ssh://, git://, a path

	repo, err := git.New(git.Options{
		URL:      url,
		Ref:      git.Ref{SemVer: ">=1.0.0"},
		CacheDir: filepath.Join(dir, "cache"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var src source.Source = repo
	a, err := src.Fetch(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := fs.ReadFile(a.FS, "deploy/app.yaml")
	fmt.Println(a.Revision)
	fmt.Println(a.Commit.Author.Name, a.Commit.Message)
	fmt.Print(string(b))

	// Polling: one ls-remote, no transfer.
	rev, _ := src.LatestRevision(context.Background())
	fmt.Println(rev == a.Revision)
	// Output:
	// v1.0.0@sha1:630d37ea4e6256bb4651c42ac94c83d8cdf8eb57
	// Ann first
	//
	// kind: ConfigMap
	// true
}

func ExampleRepository_Push() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	repo, _ := git.New(git.Options{URL: exampleRepo(dir), CacheDir: filepath.Join(dir, "cache")})

	rev, err := repo.Push(context.Background(), git.Change{
		Branch:  "main",
		Files:   map[string][]byte{"deploy/app.yaml": []byte("kind: ConfigMap\ndata: {tag: v2}\n")},
		Author:  source.Signature{Name: "Image Bot", Email: "bot@example.com"},
		Message: "update tag",
	})
	if err != nil {
		fmt.Println(err) // errors.Is(err, git.ErrNonFastForward): retry
		return
	}
	latest, _ := repo.LatestRevision(context.Background())
	fmt.Println(latest == rev)
	// Output: true
}

func ExampleRedactURL() {
	fmt.Println(git.RedactURL(`clone "https://bot:ghp_secret@github.com/org/repo.git": denied`))
	// Output: clone "https://***@github.com/org/repo.git": denied
}

// A lazy checkout writes no files: the artifact is read through its FS, from the
// object cache, and has no Path.
func ExampleCheckoutLazy() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	repo, _ := git.New(git.Options{URL: exampleRepo(dir), CacheDir: filepath.Join(dir, "cache"), Checkout: git.CheckoutLazy})
	a, err := repo.Fetch(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := fs.ReadFile(a.FS, "deploy/app.yaml")
	fmt.Printf("%q %s", a.Path, b)
	// Output: "" kind: ConfigMap
}
