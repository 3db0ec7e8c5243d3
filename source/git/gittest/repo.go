package gittest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
)

// Env is the environment git commands run with: a fixed identity and dates (so
// hashes are reproducible), and no system or global configuration.
func Env() []string {
	return append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Test Author", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Committer", "GIT_COMMITTER_EMAIL=committer@example.com",
		"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z",
		"GIT_TERMINAL_PROMPT=0",
	)
}

// Git runs the git CLI in dir with [Env] and returns its trimmed standard output;
// it fails the test when git fails.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return GitEnv(t, dir, nil, args...)
}

// GitEnv is [Git] with extra environment variables.
func GitEnv(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	testtool.Require(t, "git")
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(Env(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// Repo is a working clone whose history tests shape with the git CLI, and the bare
// repository Name under Root that servers serve. [Repo.Publish] copies the clone's
// branches and tags (force-pushed and deleted ones included) to the bare repository.
type Repo struct {
	t testing.TB
	// Work is the working clone.
	Work string
	// Root is the directory servers serve; the bare repository is Root/Name.
	Root string
	// Name is the bare repository's directory name, e.g. "repo.git".
	Name string
}

// NewRepo creates an empty working clone (default branch "main") and an empty bare
// repository root/name. An empty root means a new temporary directory.
func NewRepo(t testing.TB, root, name string) *Repo {
	t.Helper()
	if root == "" {
		root = t.TempDir()
	}
	r := &Repo{t: t, Work: t.TempDir(), Root: root, Name: name}
	Git(t, r.Work, "init", "-q", "-b", "main")
	Git(t, root, "init", "-q", "--bare", "-b", "main", name)
	return r
}

// Bare returns the bare repository's path.
func (r *Repo) Bare() string { return filepath.Join(r.Root, r.Name) }

// Git runs git in the working clone.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	return Git(r.t, r.Work, args...)
}

// WriteFiles writes files (slash-separated paths relative to the clone); content
// starting with "->" makes a symbolic link to the rest, and [Delete] removes the
// file.
func (r *Repo) WriteFiles(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.Work, filepath.FromSlash(name))
		if content == Delete {
			if err := os.RemoveAll(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		_ = os.Remove(p)
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			r.t.Fatal(err)
		}
	}
}

// Delete, as a file's content in [Repo.WriteFiles] or [Repo.Commit], removes it.
const Delete = "\x00delete"

// Commit writes files, stages everything and commits with message (extra git
// arguments, e.g. "-S", go before the message); it returns the new commit's hash.
func (r *Repo) Commit(message string, files map[string]string, args ...string) string {
	r.t.Helper()
	r.WriteFiles(files)
	r.Git("add", "-A")
	r.Git(append(append([]string{"commit", "-q", "--allow-empty"}, args...), "-m", message)...)
	return r.Git("rev-parse", "HEAD")
}

// Publish makes the bare repository mirror the clone's branches and tags.
func (r *Repo) Publish() {
	r.t.Helper()
	r.Git("push", "-q", "--force", "--prune", r.Bare(), "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
}
