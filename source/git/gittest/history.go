package gittest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// History describes a generated history: Commits commits on Branch touching a tree of
// Files YAML files spread over directories of 100. The first commit adds every
// file; each later one changes one file. Generation is deterministic.
type History struct {
	Branch  string
	Commits int
	Files   int
}

// WriteFastImport writes h as a git fast-import stream.
func (h History) WriteFastImport(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	branch := h.Branch
	if branch == "" {
		branch = "main"
	}
	when := int64(1704164645)
	for c := 1; c <= h.Commits; c++ {
		msg := fmt.Sprintf("commit %d", c)
		fmt.Fprintf(bw, "commit refs/heads/%s\nmark :%d\n", branch, c)
		fmt.Fprintf(bw, "author Test Author <author@example.com> %d +0000\n", when+int64(c))
		fmt.Fprintf(bw, "committer Test Committer <committer@example.com> %d +0000\n", when+int64(c))
		fmt.Fprintf(bw, "data %d\n%s\n", len(msg), msg)
		if c > 1 {
			fmt.Fprintf(bw, "from :%d\n", c-1)
		}
		if c == 1 {
			for f := 0; f < h.Files; f++ {
				writeFile(bw, f, 0)
			}
		} else if h.Files > 0 {
			writeFile(bw, c%h.Files, c)
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

func writeFile(w *bufio.Writer, f, version int) {
	body := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-%d
  namespace: ns-%d
data:
  version: "%d"
  payload: %s
`, f, f/100, version, strings.Repeat("x", 200+f%50))
	fmt.Fprintf(w, "M 100644 inline dir-%03d/cm-%d.yaml\ndata %d\n%s\n", f/100, f, len(body), body)
}

// Generate writes the history h into r's working clone with git fast-import, checks
// out its branch and publishes it.
func (r *Repo) Generate(h History) {
	r.t.Helper()
	cmd := exec.Command("git", "fast-import", "--quiet", "--force")
	cmd.Dir = r.Work
	cmd.Env = Env()
	pr, pw := io.Pipe()
	cmd.Stdin = pr
	go func() { pw.CloseWithError(h.WriteFastImport(pw)) }()
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	branch := h.Branch
	if branch == "" {
		branch = "main"
	}
	r.Git("checkout", "-q", "-f", branch)
	r.Publish()
}

// CommitZeros commits a file of size zero bytes at name on the clone's current
// branch, for size-limit tests: git fast-import stores it compressed in a pack
// (a GiB of zeros takes about a MiB), and the bare repository is set to keep the
// packs pushed to it, so that servers send the object as stored instead of
// compressing it again. The file is never written to the working clone, and
// later [Repo.Commit]s keep it (skip-worktree). It returns the new commit's
// hash; publish it with [Repo.Publish].
func (r *Repo) CommitZeros(message, name string, size int64) string {
	r.t.Helper()
	branch := r.Git("symbolic-ref", "--short", "HEAD")
	Git(r.t, r.Bare(), "config", "receive.unpackLimit", "1")
	cmd := exec.Command("git", "-c", "fastimport.unpackLimit=0", "fast-import", "--quiet")
	cmd.Dir = r.Work
	cmd.Env = Env()
	pr, pw := io.Pipe()
	cmd.Stdin = pr
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		fmt.Fprintf(bw, "commit refs/heads/%s\n", branch)
		fmt.Fprintf(bw, "committer Test Committer <committer@example.com> 1704164645 +0000\n")
		fmt.Fprintf(bw, "data %d\n%s\nfrom refs/heads/%s^0\n", len(message), message, branch)
		fmt.Fprintf(bw, "M 100644 inline %s\ndata %d\n", name, size)
		_, err := io.CopyN(bw, zeros{}, size)
		if err == nil {
			_, err = bw.WriteString("\n")
		}
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	r.Git("reset", "-q")
	r.Git("update-index", "--skip-worktree", name)
	return r.Git("rev-parse", "HEAD")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
