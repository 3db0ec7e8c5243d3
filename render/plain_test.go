package render_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

func cm(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
}

func origins(res *render.Result) []string {
	var out []string
	for _, m := range res.Manifests {
		out = append(out, m.Origin.String()+" "+object.IDOf(m.Object).String())
	}
	return out
}

func TestPlainOrderAndGlobs(t *testing.T) {
	fsys := fstest.MapFS{
		"apps/b.yaml":                {Data: []byte(cm("b"))},
		"apps/a.yml":                 {Data: []byte(cm("a") + "---\n" + cm("a2"))},
		"apps/z/deep/c.json":         {Data: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`)},
		"apps/README.md":             {Data: []byte("# not a manifest")},
		"apps/test/skip.yaml":        {Data: []byte(cm("skipped"))},
		"apps/kustomize-ignored.txt": {Data: []byte("x")},
		"other/o.yaml":               {Data: []byte(cm("other"))},
	}
	for _, tc := range []struct {
		name string
		opts render.Options
		want []string
	}{
		{name: "default", want: []string{
			"apps/a.yml:1 /ConfigMap//a", "apps/a.yml:6 /ConfigMap//a2", "apps/b.yaml:1 /ConfigMap//b",
			"apps/test/skip.yaml:1 /ConfigMap//skipped", "apps/z/deep/c.json:1 /ConfigMap//c"}},
		{name: "exclude a directory", opts: render.Options{Exclude: []string{"test"}}, want: []string{
			"apps/a.yml:1 /ConfigMap//a", "apps/a.yml:6 /ConfigMap//a2", "apps/b.yaml:1 /ConfigMap//b",
			"apps/z/deep/c.json:1 /ConfigMap//c"}},
		{name: "include with **", opts: render.Options{Include: []string{"z/**/*.json", "b.yaml"}}, want: []string{
			"apps/b.yaml:1 /ConfigMap//b", "apps/z/deep/c.json:1 /ConfigMap//c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := render.Plain{}.Render(context.Background(), render.Input{FS: fsys, Dir: "apps"}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := origins(res); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPlainErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fsys     fstest.MapFS
		dir      string
		opts     render.Options
		sentinel error
		contains string
	}{
		{name: "not YAML", fsys: fstest.MapFS{"x/bad.yaml": {Data: []byte("a: b: c\n")}}, dir: "x",
			sentinel: object.ErrInvalid, contains: "x/bad.yaml:1"},
		{name: "duplicate across files", fsys: fstest.MapFS{"a.yaml": {Data: []byte(cm("a"))}, "b.yaml": {Data: []byte(cm("a"))}},
			sentinel: object.ErrDuplicate, contains: "b.yaml:1"},
		{name: "dir outside root", fsys: fstest.MapFS{}, dir: "../x", sentinel: render.ErrOutsideRoot},
		{name: "bad glob", fsys: fstest.MapFS{}, opts: render.Options{Include: []string{"["}}, contains: "["},
		{name: "object limit", fsys: fstest.MapFS{"a.yaml": {Data: []byte(cm("a") + "---\n" + cm("b"))}, "b.yaml": {Data: []byte(cm("c"))}},
			opts: render.Options{Limits: render.Limits{MaxObjects: 2}}, sentinel: render.ErrLimit, contains: "b.yaml"},
		{name: "byte limit", fsys: fstest.MapFS{"a.yaml": {Data: []byte(cm("a"))}, "b.yaml": {Data: []byte(cm("b"))}},
			opts: render.Options{Limits: render.Limits{MaxBytes: 60}}, sentinel: render.ErrLimit, contains: "b.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render.Plain{}.Render(context.Background(), render.Input{FS: tc.fsys, Dir: tc.dir}, tc.opts)
			rendertest.WantError(t, err, tc.sentinel, tc.contains)
		})
	}
}

func TestPlainSymlinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(cm("a")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.yaml", filepath.Join(dir, "inside.yaml")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	// A symlink inside the root is read; it declares the same object as a.yaml.
	_, err = render.Plain{}.Render(context.Background(), render.Input{FS: root.FS()}, render.Options{})
	if !errors.Is(err, object.ErrDuplicate) {
		t.Errorf("symlink inside the root: error = %v, want a duplicate", err)
	}
	os.Remove(filepath.Join(dir, "inside.yaml"))
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err = render.Plain{}.Render(context.Background(), render.Input{FS: root.FS()}, render.Options{})
	if err == nil || !strings.Contains(err.Error(), "passwd.yaml") || strings.Contains(err.Error(), "root:") {
		t.Errorf("symlink to /etc/passwd: error = %v, want a refusal naming passwd.yaml", err)
	}
}

func TestDetectAndAuto(t *testing.T) {
	fsys := fstest.MapFS{
		"k/kustomization.yml": {Data: []byte("resources: []\n")},
		"k2/Kustomization":    {Data: []byte("resources: []\n")},
		"h/Chart.yaml":        {Data: []byte("name: h\n")},
		"p/a.yaml":            {Data: []byte(cm("a"))},
		"p/sub/b.yaml":        {Data: []byte(cm("b"))},
		// Flux's clusters/<name>: no kustomization of its own, one below.
		"f/apps.yaml":                      {Data: []byte(cm("a"))},
		"f/flux-system/kustomization.yaml": {Data: []byte("resources: []\n")},
		"f2/a/b/Kustomization":             {Data: []byte("resources: []\n")},
		// A directory named like a kustomization file does not count.
		"d/kustomization.yaml/a.yaml": {Data: []byte(cm("a"))},
	}
	for dir, want := range map[string]render.Kind{"k": render.KindKustomize, "k2": render.KindKustomize, "h": render.KindHelm, "p": render.KindPlain,
		"f": render.KindKustomize, "f2": render.KindKustomize, "d": render.KindPlain} {
		if got, err := render.Detect(fsys, dir); err != nil || got != want {
			t.Errorf("Detect(%s) = %v, %v; want %v", dir, got, err, want)
		}
	}
	a := render.Auto{}
	for _, dir := range []string{"k", "h"} {
		if _, err := a.Render(context.Background(), render.Input{FS: fsys, Dir: dir}, render.Options{}); !errors.Is(err, render.ErrNoRenderer) {
			t.Errorf("Auto without renderers on %s: error = %v, want ErrNoRenderer", dir, err)
		}
	}
	res, err := a.Render(context.Background(), render.Input{FS: fsys, Dir: "p"}, render.Options{})
	if err != nil || len(res.Manifests) != 2 || res.Renderer != "plain" {
		t.Errorf("Auto on plain: %v, %v", res, err)
	}
}

// TestPlainGiantFile: a file larger than the byte limit is refused, naming it,
// before it is read.
func TestPlainGiantFile(t *testing.T) {
	fsys := rendertest.CountReads(fstest.MapFS{"big.yaml": {Data: []byte(cm("big") + "data:\n  x: " + strings.Repeat("x", 4096) + "\n")}})
	_, err := render.Plain{}.Render(context.Background(), render.Input{FS: fsys}, render.Options{Limits: render.Limits{MaxBytes: 1024}})
	rendertest.WantError(t, err, render.ErrLimit, "big.yaml: render limit exceeded: 4161 bytes, more than 1024")
	if n := fsys.Read("big.yaml"); n != 0 {
		t.Errorf("read %d bytes of big.yaml, want none", n)
	}
}
