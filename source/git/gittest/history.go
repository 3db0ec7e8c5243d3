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
