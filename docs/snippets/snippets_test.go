package snippets

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/clustertest"
)

var updateGuides = flag.Bool("update", false, "rewrite the guides' code blocks from the Go files")

// snippet: clustertest-main
var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// end snippet

var (
	goStart   = regexp.MustCompile(`^\s*// snippet: ([a-z0-9-]+)\s*$`)
	goEnd     = regexp.MustCompile(`^\s*// end snippet\s*$`)
	mdMarker  = regexp.MustCompile(`^<!-- snippet: ([a-z0-9-]+) -->$`)
	mdGoFence = regexp.MustCompile("^```go\\s*$")
)

// goSnippets reads the snippets of the Go files in dir.
func goSnippets(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var name string
		var lines []string
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case goStart.MatchString(line) && name == "":
				name, lines = goStart.FindStringSubmatch(line)[1], nil
				if _, dup := out[name]; dup {
					t.Fatalf("%s:%d: snippet %q defined twice", f, i+1, name)
				}
			case goEnd.MatchString(line) && name != "":
				out[name] = dedent(lines)
				name = ""
			case name != "":
				lines = append(lines, line)
			}
		}
		if name != "" {
			t.Fatalf("%s: snippet %q has no end", f, name)
		}
	}
	return out
}

// dedent removes the tabs every non-empty line starts with, and blank lines at
// either end.
func dedent(lines []string) string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if common < 0 || n < common {
			common = n
		}
	}
	var b strings.Builder
	for _, l := range lines {
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// syncGuide checks, or with update rewrites, the code blocks of one guide. Every Go
// block of a guide must come from a snippet.
func syncGuide(path string, snippets map[string]string, used map[string]bool, update bool) (string, []error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", []error{err}
	}
	var errs []error
	lines := strings.Split(string(b), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if mdGoFence.MatchString(line) && (i == 0 || !mdMarker.MatchString(lines[i-1])) {
			errs = append(errs, fmt.Errorf("%s:%d: a Go block without a snippet marker", path, i+1))
		}
		out = append(out, line)
		m := mdMarker.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		want, ok := snippets[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: no Go snippet %q in docs/snippets", path, i+1, name))
			continue
		}
		used[name] = true
		if i+1 >= len(lines) || !mdGoFence.MatchString(lines[i+1]) {
			errs = append(errs, fmt.Errorf("%s:%d: snippet %q: the marker must be followed by a ```go block", path, i+1, name))
			continue
		}
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end == len(lines) {
			errs = append(errs, fmt.Errorf("%s:%d: snippet %q: unterminated code block", path, i+1, name))
			continue
		}
		got := strings.Join(lines[i+2:end], "\n") + "\n"
		if got != want && !update {
			errs = append(errs, fmt.Errorf("%s:%d: snippet %q differs from docs/snippets (run go test ./docs/snippets -run TestGuides -update):\n%s", path, i+1, name, want))
		}
		out = append(out, "```go")
		out = append(out, strings.Split(strings.TrimSuffix(want, "\n"), "\n")...)
		out = append(out, "```")
		i = end
	}
	return strings.Join(out, "\n"), errs
}

func TestGuidesMatchSnippets(t *testing.T) {
	snippets := goSnippets(t, ".")
	guides, err := filepath.Glob(filepath.Join("..", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, g := range guides {
		text, errs := syncGuide(g, snippets, used, *updateGuides)
		for _, err := range errs {
			t.Error(err)
		}
		if *updateGuides && len(errs) == 0 {
			if err := os.WriteFile(g, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range snippets {
		if !used[name] {
			t.Errorf("snippet %q is in no guide", name)
		}
	}
}

func TestSyncGuideFindsDrift(t *testing.T) {
	dir := t.TempDir()
	guide := filepath.Join(dir, "g.md")
	body := "# G\n\n<!-- snippet: a -->\n```go\nold()\n```\n\n```go\nfree()\n```\n"
	if err := os.WriteFile(guide, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	_, errs := syncGuide(guide, map[string]string{"a": "new()\n"}, used, false)
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "without a snippet marker") && !strings.Contains(errs[1].Error(), "without a snippet marker") {
		t.Errorf("want a drift and a free Go block reported, got %v", errs)
	}
	text, _ := syncGuide(guide, map[string]string{"a": "new()\n"}, used, true)
	if !strings.Contains(text, "```go\nnew()\n```") || !used["a"] {
		t.Errorf("update did not rewrite the block:\n%s", text)
	}
}
