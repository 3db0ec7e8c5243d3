package source

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if target, ok := strings.CutPrefix(content, "->"); ok {
			must(t, os.Symlink(target, p))
			continue
		}
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func TestCheckSymlinks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string
		escape string // the link named in the error; "" when none escapes
	}{
		{"inside", map[string]string{"a/f.yaml": "x", "l": "->a/f.yaml", "d": "->a", "up": "->a/../a"}, ""},
		{"dangling inside", map[string]string{"l": "->missing/file"}, ""},
		{"parent", map[string]string{"a/l": "->../../etc/passwd"}, "a/l"},
		{"absolute", map[string]string{"l": "->/etc/passwd"}, "l"},
		{"through a link to the root", map[string]string{"self": "->.", "out": "->self/.."}, "out"},
		{"chain", map[string]string{"a/b": "->..", "c": "->a/b/.."}, "c"},
		{"dangling outside", map[string]string{"l": "->../nowhere/at/all"}, "l"},
		{"loop", map[string]string{"x": "->y", "y": "->x"}, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			err := CheckSymlinks(dir)
			if tc.escape == "" {
				if err != nil {
					t.Fatalf("CheckSymlinks: %v", err)
				}
				return
			}
			var se *SymlinkError
			if !errors.As(err, &se) || se.Link != tc.escape {
				t.Fatalf("CheckSymlinks = %v, want a *SymlinkError for %s", err, tc.escape)
			}
			if tc.name != "loop" && !errors.Is(err, ErrSymlinkEscape) {
				t.Fatalf("%v does not match ErrSymlinkEscape", err)
			}
			if _, err := (Local{Dir: dir}).Fetch(context.Background()); !strings.Contains(fmtErr(err), tc.escape) {
				t.Fatalf("Local.Fetch = %v, want an error naming %s", err, tc.escape)
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDirFSRefusesEscape(t *testing.T) {
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600))
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"ok.yaml": "a: 1", "esc": "->" + filepath.Join(outside, "secret")})
	fsys := DirFS(dir)
	if b, err := fs.ReadFile(fsys, "ok.yaml"); err != nil || string(b) != "a: 1" {
		t.Fatalf("ReadFile(ok.yaml) = %q, %v", b, err)
	}
	if _, err := fs.ReadFile(fsys, "esc"); err == nil {
		t.Fatal("reading a link escaping the root succeeded")
	}
	if _, err := fs.ReadFile(fsys, "../"+filepath.Base(outside)+"/secret"); err == nil {
		t.Fatal("reading ../ succeeded")
	}
	if target, err := fs.ReadLink(fsys, "esc"); err != nil || target == "" {
		t.Fatalf("ReadLink = %q, %v", target, err)
	}
}

func TestDigest(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"a.yaml": "a: 1", "dir/b.yaml": "b: 2", "link": "->a.yaml"}
	d1, d2 := t.TempDir(), t.TempDir()
	writeTree(t, d1, files)
	writeTree(t, d2, files)
	g1, err := Digest(ctx, DirFS(d1))
	must(t, err)
	g2, err := Digest(ctx, DirFS(d2))
	must(t, err)
	if g1 != g2 || !strings.HasPrefix(g1, "sha256:") || len(g1) != 71 {
		t.Fatalf("digests %s and %s of equal trees differ or are malformed", g1, g2)
	}
	for _, change := range []func(){
		func() { must(t, os.WriteFile(filepath.Join(d2, "dir/b.yaml"), []byte("b: 3"), 0o644)) },
		func() { must(t, os.Chmod(filepath.Join(d2, "a.yaml"), 0o755)) },
		func() {
			must(t, os.Remove(filepath.Join(d2, "link")))
			must(t, os.Symlink("dir/b.yaml", filepath.Join(d2, "link")))
		},
		func() { must(t, os.Rename(filepath.Join(d2, "a.yaml"), filepath.Join(d2, "c.yaml"))) },
	} {
		change()
		g, err := Digest(ctx, DirFS(d2))
		must(t, err)
		if g == g2 {
			t.Fatalf("digest did not change after a change (%s)", g)
		}
		g2 = g
	}
}

func TestLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"app/deploy.yaml": "kind: Deployment"})
	src := Local{Dir: dir}
	a, err := src.Fetch(ctx)
	must(t, err)
	if a.Revision != a.Digest || a.Commit != nil || a.Path != dir {
		t.Fatalf("artifact = %+v", a)
	}
	if b, err := fs.ReadFile(a.FS, "app/deploy.yaml"); err != nil || string(b) != "kind: Deployment" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	rev, err := src.LatestRevision(ctx)
	if err != nil || rev != a.Revision {
		t.Fatalf("LatestRevision = %s, %v; want %s", rev, err, a.Revision)
	}
	if _, err := (Local{Dir: filepath.Join(dir, "missing")}).Fetch(ctx); err == nil {
		t.Fatal("Fetch of a missing directory succeeded")
	}
	if _, err := (Local{Dir: filepath.Join(dir, "app/deploy.yaml")}).Fetch(ctx); err == nil {
		t.Fatal("Fetch of a file succeeded")
	}
}
