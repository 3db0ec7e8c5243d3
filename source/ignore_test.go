package source

import (
	"strings"
	"testing"
)

func TestIgnore(t *testing.T) {
	var ig Ignore
	must(t, ig.Add("", ".sourceignore", `
# comment
*.md
!README.md
/build/
docs/**/*.png
tmp/
**/secret.yaml
\#hash
trailing\ 
[!a]x.txt
`))
	must(t, ig.Add("apps", "apps/.sourceignore", "local.yaml\n/only-here.yaml\n"))
	for _, tc := range []struct {
		path string
		dir  bool
		want bool
	}{
		{"CHANGES.md", false, true},
		{"a/b/notes.md", false, true},
		{"README.md", false, false},
		{"build", true, true},
		{"build/x.yaml", false, true},
		{"sub/build", true, false},
		{"build", false, false},
		{"docs/a.png", false, true},
		{"docs/x/y/a.png", false, true},
		{"docs/a.jpg", false, false},
		{"x/tmp/file", false, true},
		{"deep/down/secret.yaml", false, true},
		{"secret.yaml", false, true},
		{"#hash", false, true},
		{"trailing ", false, true},
		{"bx.txt", false, true},
		{"ax.txt", false, false},
		{"apps/local.yaml", false, true},
		{"apps/x/local.yaml", false, true},
		{"local.yaml", false, false},
		{"apps/only-here.yaml", false, true},
		{"apps/x/only-here.yaml", false, false},
		{"deploy/app.yaml", false, false},
	} {
		if got := ig.Match(tc.path, tc.dir); got != tc.want {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", tc.path, tc.dir, got, tc.want)
		}
	}
}

func TestIgnoreCannotReincludeInsideIgnoredDir(t *testing.T) {
	var ig Ignore
	must(t, ig.Add("", "x", "/vendor/\n!/vendor/keep.yaml\n/*\n!/deploy/\n"))
	for p, want := range map[string]bool{
		"vendor/keep.yaml": true,
		"deploy/app.yaml":  false,
		"other.yaml":       true,
	} {
		if got := ig.Match(p, false); got != want {
			t.Errorf("Match(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestIgnoreBadPattern(t *testing.T) {
	var ig Ignore
	err := ig.Add("", "repo/.sourceignore", "ok\n[unclosed\n")
	if err == nil || !strings.Contains(err.Error(), "repo/.sourceignore:2") {
		t.Fatalf("err = %v, want one naming repo/.sourceignore:2", err)
	}
	if ig.Match("ok", false) {
		t.Error("a failed Add must add nothing")
	}
}

func FuzzIgnore(f *testing.F) {
	f.Add("*.md\n!README.md\n/build/\n", "a/b/c.md", true)
	f.Add("**/x/**\n[a-\n", "x/y", false)
	f.Fuzz(func(t *testing.T, text, p string, dir bool) {
		var ig Ignore
		if err := ig.Add("", "f", text); err != nil {
			return
		}
		got := ig.Match(p, dir)
		// Ignoring a directory ignores what it holds.
		if dir && got && !ig.Match(p+"/child", false) && strings.Trim(p, "/") != "" && !strings.Contains(p, "..") {
			t.Fatalf("%q ignored as a directory but %q/child is not", p, p)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
