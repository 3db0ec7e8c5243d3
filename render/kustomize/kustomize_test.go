package kustomize_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

func build(t *testing.T, r *kustomize.Renderer, rootDir, dir string) (*render.Result, error) {
	t.Helper()
	return r.Render(context.Background(), render.Input{FS: openRoot(t, rootDir).FS(), Dir: dir}, render.Options{})
}

func TestParityWithKustomizeBuild(t *testing.T) {
	want := rendertest.CLI(t, "testdata/overlay/overlays/prod", "kustomize", "build", ".")
	res, err := build(t, kustomize.New(kustomize.Options{}), "testdata/overlay", "overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 8 {
		t.Fatalf("kustomize printed only %d objects", len(want))
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))
}

func TestOrigins(t *testing.T) {
	res, err := build(t, kustomize.New(kustomize.Options{}), "testdata/overlay", "overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range res.Manifests {
		got[object.IDOf(m.Object).String()] = m.Origin.String()
		if _, ok := m.Object.GetAnnotations()["config.kubernetes.io/origin"]; ok {
			t.Errorf("%s keeps the origin annotation the renderer added", object.IDOf(m.Object))
		}
	}
	want := map[string]string{
		"apps/Deployment/shop/prod-web":                      "base/app/deployment.yaml",
		"apps/StatefulSet/shop/prod-db":                      "base/db/statefulset.yaml",
		"/Namespace//shop":                                   "overlays/prod/namespace.yaml",
		"monitoring.coreos.com/ServiceMonitor/shop/prod-web": "components/monitoring/servicemonitor.yaml",
	}
	for id, file := range want {
		if got[id] != file {
			t.Errorf("origin of %s = %q, want %q", id, got[id], file)
		}
	}
	var generated bool
	for id, file := range got {
		if strings.HasPrefix(id, "/ConfigMap/shop/prod-features-") {
			generated = true
			if file != "overlays/prod/kustomization.yaml" {
				t.Errorf("origin of generated %s = %q, want the kustomization", id, file)
			}
		}
	}
	if !generated {
		t.Errorf("no generated features ConfigMap in %v", got)
	}
}

func TestRefusals(t *testing.T) {
	r := kustomize.New(kustomize.Options{})
	for _, tc := range []struct {
		dir      string
		sentinel error
		contains string
	}{
		{dir: "exec-plugin", contains: "external plugin 'Pwn'"},
		{dir: "escape/app", contains: "secret.yaml"},
		{dir: "remote", sentinel: render.ErrRemote, contains: "github.com/kubernetes-sigs"},
		{dir: "remote-file", sentinel: render.ErrRemote, contains: "https://raw.githubusercontent.com"},
		{dir: "absolute", sentinel: render.ErrOutsideRoot, contains: "/absolute/kustomization.yaml: path outside the artifact root: /etc/passwd"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := build(t, r, "testdata/security", tc.dir)
			rendertest.WantError(t, err, tc.sentinel, tc.contains)
		})
	}
}

// TestOutsideRoot: a path that leaves the artifact root fails, naming the
// kustomization, where the artifact's file system alone would resolve it inside
// the root ("/../app" is "/app"); kustomize in the artifact's directory reads
// outside it.
func TestOutsideRoot(t *testing.T) {
	for _, r := range []*kustomize.Renderer{kustomize.New(kustomize.Options{}), kustomize.New(kustomize.Options{LoadRestrictions: kustomize.AnyInArtifact})} {
		for _, tc := range []struct{ dir, contains string }{
			{dir: ".", contains: "/kustomization.yaml: path outside the artifact root: ../app"},
			{dir: "overlay", contains: "/overlay/kustomization.yaml: path outside the artifact root: ../../app/cm.yaml"},
			{dir: "generator", contains: "/generator/kustomization.yaml: path outside the artifact root: ../../settings.env"},
			{dir: "../up", contains: `"../up"`},
		} {
			_, err := build(t, r, "testdata/security/up", tc.dir)
			rendertest.WantError(t, err, render.ErrOutsideRoot, tc.contains)
		}
	}
}

func TestSymlinkOutOfRootRefused(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "kustomization.yaml"), "resources:\n  - passwd.yaml\n")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, kustomize.New(kustomize.Options{}), dir, ".")
	if err == nil || !strings.Contains(err.Error(), "passwd.yaml") {
		t.Fatalf("error = %v, want one naming passwd.yaml", err)
	}
	if strings.Contains(err.Error(), "root:") {
		t.Fatalf("error leaks /etc/passwd content: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "kustomization.yaml"), "resources:\n  - notes.txt\n")
	write(t, filepath.Join(dir, "notes.txt"), "this: is: not yaml\n")
	_, err := build(t, kustomize.New(kustomize.Options{}), dir, ".")
	if err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("error = %v, want one naming notes.txt", err)
	}
}

func TestLimits(t *testing.T) {
	r := kustomize.New(kustomize.Options{})
	in := render.Input{FS: openRoot(t, "testdata/overlay").FS(), Dir: "overlays/prod"}
	_, err := r.Render(context.Background(), in, render.Options{Limits: render.Limits{MaxObjects: 3}})
	if !errors.Is(err, render.ErrLimit) {
		t.Errorf("object limit: error = %v, want ErrLimit", err)
	}
	_, err = r.Render(context.Background(), in, render.Options{Limits: render.Limits{MaxBytes: 100}})
	if !errors.Is(err, render.ErrLimit) {
		t.Errorf("byte limit: error = %v, want ErrLimit", err)
	}
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOriginMarks covers the documents the renderer marks with their file: a List,
// a JSON file, a file that is both a resource and a generator's source (whose
// content must reach the generated ConfigMap unchanged), a generator in a base,
// and a kustomization that asks for kustomize's own origin annotations.
func TestOriginMarks(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"base/kustomization.yaml": "resources: [list.yaml, cm.json, shared.yaml]\n" +
			"configMapGenerator:\n  - name: gen\n    files: [shared.yaml]\n",
		"base/list.yaml": "apiVersion: v1\nkind: List\nitems:\n" +
			"  - {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}\n" +
			"  - {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}\n",
		"base/cm.json":            `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}, "data": {"n": "1"}}`,
		"base/shared.yaml":        "# kept as written\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n",
		"app/kustomization.yaml":  "namePrefix: p-\nresources: [../base, extra.yaml]\n",
		"app/extra.yaml":          "# extras\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n---\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
		"kept/kustomization.yaml": "buildMetadata: [originAnnotations]\nresources: [../base]\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), content)
	}
	r := kustomize.New(kustomize.Options{})
	res, err := build(t, r, dir, "app")
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Equal(t, rendertest.CLI(t, filepath.Join(dir, "app"), "kustomize", "build", "."), object.Objects(res.Manifests))
	got := map[string]string{}
	for _, m := range res.Manifests {
		got[object.IDOf(m.Object).String()] = m.Origin.String()
	}
	want := map[string]string{
		"/ConfigMap//p-one":    "base/list.yaml",
		"/ConfigMap//p-two":    "base/list.yaml",
		"/ConfigMap//p-json":   "base/cm.json",
		"/ConfigMap//p-shared": "app/kustomization.yaml", // also a generator's source: left unmarked
		"/ConfigMap//p-extra":  "app/extra.yaml",
		"/Secret//p-s":         "app/extra.yaml",
	}
	for id, file := range want {
		if got[id] != file {
			t.Errorf("origin of %s = %q, want %q", id, got[id], file)
		}
	}
	for id, file := range got {
		if strings.HasPrefix(id, "/ConfigMap//p-gen-") && file != "base/kustomization.yaml" {
			t.Errorf("origin of generated %s = %q, want base/kustomization.yaml", id, file)
		}
	}

	res, err = build(t, r, dir, "kept")
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Equal(t, rendertest.CLI(t, filepath.Join(dir, "kept"), "kustomize", "build", "."), object.Objects(res.Manifests))
	for _, m := range res.Manifests {
		if id := object.IDOf(m.Object); id.Name == "json" && m.Origin.String() != "base/cm.json" {
			t.Errorf("with origin annotations, origin of %s = %q, want base/cm.json", id, m.Origin)
		}
	}
}

// TestGiantFile: a file over the byte limit, listed as a resource or read by a
// generator, is refused after reading at most one byte more than the limit,
// with an error naming the file and the limit.
func TestGiantFile(t *testing.T) {
	const limit = 4096
	for name, tc := range map[string]struct{ kustomization, file string }{
		"resource":  {kustomization: "resources:\n- big.yaml\n", file: "big.yaml"},
		"generator": {kustomization: "configMapGenerator:\n- name: big\n  files:\n  - big.yaml\n", file: "big.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "kustomization.yaml"), tc.kustomization)
			write(t, filepath.Join(dir, tc.file), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  big: "+strings.Repeat("x", 10*limit)+"\n")
			fsys := rendertest.CountReads(openRoot(t, dir).FS())
			_, err := kustomize.New(kustomize.Options{}).Render(context.Background(), render.Input{FS: fsys}, render.Options{Limits: render.Limits{MaxBytes: limit}})
			rendertest.WantError(t, err, render.ErrLimit, "/"+tc.file+": render limit exceeded: read more than 4096 bytes")
			if n := fsys.Read(tc.file); n > limit+1 {
				t.Errorf("read %d bytes of %s, want at most %d", n, tc.file, limit+1)
			}
		})
	}
}
