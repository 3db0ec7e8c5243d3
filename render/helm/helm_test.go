package helm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

func artifact(t *testing.T, dir string) fs.FS {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root.FS()
}

func renderChart(t *testing.T, fsys fs.FS, dir string, h render.HelmOptions) (*render.Result, error) {
	t.Helper()
	return helm.New(helm.Options{}).Render(context.Background(), render.Input{FS: fsys, Dir: dir}, render.Options{Helm: h})
}

var prod = render.HelmOptions{
	ReleaseName: "prod",
	Namespace:   "shop",
	ValuesFiles: []string{"values/prod.yaml"},
	Values:      map[string]any{"ingress": map[string]any{"host": "eu.shop.example.com"}},
	Set:         []string{"service.port=8080"},
	SetString:   []string{"image.tag=2.1.1"},
	KubeVersion: "v1.37.2",
	APIVersions: []string{"monitoring.coreos.com/v1"},
}

func TestParityWithHelmTemplate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts render.HelmOptions
		args []string
	}{{
		name: "values and capabilities",
		opts: prod,
		// Inline values are a values file for the CLI: values/eu.yaml holds the same.
		args: []string{"template", "prod", "shop", "-n", "shop", "-f", "values/prod.yaml", "-f", "values/eu.yaml",
			"--set", "service.port=8080", "--set-string", "image.tag=2.1.1", "--include-crds", "--skip-tests",
			"--kube-version", "v1.37.2", "--api-versions", "monitoring.coreos.com/v1"},
	}, {
		name: "defaults with tests, without CRDs",
		opts: render.HelmOptions{ReleaseName: "release-name", SkipCRDs: true, IncludeTests: true},
		args: []string{"template", "shop"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			want := rendertest.CLI(t, "testdata/artifact", "helm", tc.args...)
			res, err := renderChart(t, artifact(t, "testdata/artifact"), "shop", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 7 {
				t.Fatalf("helm printed only %d objects", len(want))
			}
			rendertest.Equal(t, want, object.Objects(res.Manifests))
		})
	}
}

func TestOriginsHooksCRDsAndLookup(t *testing.T) {
	res, err := renderChart(t, artifact(t, "testdata/artifact"), "shop", prod)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]object.Manifest{}
	for _, m := range res.Manifests {
		byID[object.IDOf(m.Object).String()] = m
	}
	for id, file := range map[string]string{
		"apiextensions.k8s.io/CustomResourceDefinition//orders.shop.example.com": "shop/crds/orders.yaml",
		"apps/Deployment/shop/prod-shop":                                         "shop/templates/deployment.yaml",
		"apps/StatefulSet//prod-cache":                                           "shop/charts/cache/templates/statefulset.yaml",
		"batch/Job//prod-shop-migrate":                                           "shop/templates/migrate-job.yaml",
	} {
		if got := byID[id].Origin.File; got != file {
			t.Errorf("origin of %s = %q, want %q", id, got, file)
		}
	}
	job := byID["batch/Job//prod-shop-migrate"].Object
	if job == nil || job.GetAnnotations()["helm.sh/hook-weight"] != "-5" {
		t.Errorf("hook Job lost its annotations: %v", job)
	}
	if _, ok := byID["/Pod//prod-shop-test"]; ok {
		t.Error("test hook rendered by default")
	}
	secret := byID["/Secret//prod-shop-token"].Object
	if secret == nil || secret.GetAnnotations()["gitopskit.dev/lookup"] != "empty" {
		t.Errorf("lookup found something: %v", secret)
	}
	if ing := byID["networking.k8s.io/Ingress//prod-shop"].Object; ing == nil || ing.GetAnnotations()["kube-version"] != "v1.37.2" {
		t.Errorf("ingress with .Capabilities.KubeVersion: %v", ing)
	}
}

func TestBadInput(t *testing.T) {
	chart := func(files map[string]string) fstest.MapFS {
		m := fstest.MapFS{
			"c/Chart.yaml":        {Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n")},
			"c/templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n")},
		}
		for k, v := range files {
			m[k] = &fstest.MapFile{Data: []byte(v)}
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		fsys     fs.FS
		opts     render.HelmOptions
		sentinel error
		contains string
	}{
		{name: "values file outside the root", fsys: chart(nil), opts: render.HelmOptions{ValuesFiles: []string{"../secrets.yaml"}},
			sentinel: render.ErrOutsideRoot, contains: "../secrets.yaml"},
		{name: "absolute values file", fsys: chart(nil), opts: render.HelmOptions{ValuesFiles: []string{"/etc/passwd"}},
			sentinel: render.ErrOutsideRoot, contains: "/etc/passwd"},
		{name: "missing values file", fsys: chart(nil), opts: render.HelmOptions{ValuesFiles: []string{"values/none.yaml"}},
			sentinel: fs.ErrNotExist, contains: "values/none.yaml"},
		{name: "broken template", fsys: chart(map[string]string{"c/templates/bad.yaml": "name: {{ .Values.x | nosuchfunc }}\n"}),
			contains: "bad.yaml"},
		{name: "template renders invalid YAML", fsys: chart(map[string]string{"c/templates/bad.yaml": "a: b: c\n"}),
			contains: "bad.yaml"},
		{name: "bad Chart.yaml", fsys: chart(map[string]string{"c/Chart.yaml": "name: [\n"}), contains: "c/Chart.yaml"},
		{name: "Chart.yaml without a name", fsys: chart(map[string]string{"c/Chart.yaml": "apiVersion: v2\nversion: 1.0.0\n"}),
			contains: "c/Chart.yaml"},
		{name: "missing dependency", fsys: chart(map[string]string{"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n"}),
			contains: "sub"},
		// The chart is invalid whatever its dependencies: Helm says so first.
		{name: "invalid Chart.yaml with a remote dependency", fsys: chart(map[string]string{"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: one\n" +
			"dependencies:\n- name: web\n  version: 1.0.0\n  repository: https://charts.example.com\n"}),
			contains: `c/Chart.yaml: validation: chart.metadata.version "one" is invalid`},
		{name: "Chart.yaml without apiVersion, with a remote dependency", fsys: chart(map[string]string{"c/Chart.yaml": "name: c\nversion: 0.1.0\n" +
			"dependencies:\n- name: web\n  version: 1.0.0\n  repository: https://charts.example.com\n"}),
			contains: "c/Chart.yaml: validation: chart.metadata.apiVersion is required"},
		{name: "bad set", fsys: chart(nil), opts: render.HelmOptions{Set: []string{"a[=b"}}, contains: "a[=b"},
		// Helm itself would read the file and fetch the URL.
		{name: "values schema refers to a file", fsys: chart(map[string]string{"c/values.schema.json": `{"properties": {"r": {"$ref": "file:///etc/passwd"}}}`}),
			sentinel: render.ErrOutsideRoot, contains: "values schema refers to file:///etc/passwd"},
		{name: "values schema refers to a URL", fsys: chart(map[string]string{"c/values.schema.json": `{"properties": {"r": {"$ref": "http://127.0.0.1:1/s.json"}}}`}),
			sentinel: render.ErrRemote, contains: "values schema refers to http://127.0.0.1:1/s.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(t, tc.fsys, "c", tc.opts)
			rendertest.WantError(t, err, tc.sentinel, tc.contains)
		})
	}
}

func TestSymlinkOutOfRootRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/artifact")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "shop", "templates", "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := renderChart(t, artifact(t, dir), "shop", render.HelmOptions{})
	if err == nil || !strings.Contains(err.Error(), "passwd.yaml") {
		t.Fatalf("error = %v, want one naming passwd.yaml", err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "values.yaml")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "shop", "templates", "passwd.yaml"))
	_, err = renderChart(t, artifact(t, dir), "shop", render.HelmOptions{ValuesFiles: []string{"values.yaml"}})
	if err == nil || !strings.Contains(err.Error(), "values.yaml") {
		t.Fatalf("error = %v, want one naming values.yaml", err)
	}
}

func TestLimits(t *testing.T) {
	fsys := artifact(t, "testdata/artifact")
	r := helm.New(helm.Options{})
	for _, l := range []render.Limits{{MaxObjects: 2}, {MaxBytes: 512}} {
		_, err := r.Render(context.Background(), render.Input{FS: fsys, Dir: "shop"}, render.Options{Limits: l})
		if !errors.Is(err, render.ErrLimit) {
			t.Errorf("limits %+v: error = %v, want ErrLimit", l, err)
		}
	}
}

// TestGiantValuesFile: a values file over the byte limit is refused, naming the
// file and the limit, after reading at most one byte more than the limit.
func TestGiantValuesFile(t *testing.T) {
	const limit = 4096
	fsys := rendertest.CountReads(fstest.MapFS{
		"chart/Chart.yaml":        {Data: []byte("apiVersion: v2\nname: small\nversion: 1.0.0\n")},
		"chart/templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")},
		"big.yaml":                {Data: []byte("big: " + strings.Repeat("x", 10*limit) + "\n")},
	})
	opts := render.Options{Helm: render.HelmOptions{ValuesFiles: []string{"big.yaml"}}, Limits: render.Limits{MaxBytes: limit}}
	_, err := helm.New(helm.Options{}).Render(context.Background(), render.Input{FS: fsys, Dir: "chart"}, opts)
	rendertest.WantError(t, err, render.ErrLimit, "values file big.yaml: render limit exceeded: values files larger than 4096 bytes")
	if n := fsys.Read("big.yaml"); n > limit+1 {
		t.Errorf("read %d bytes of big.yaml, want at most %d", n, limit+1)
	}
}

// TestOutputLimit: the engine checks the templates' output against the byte
// limit as Helm returns it, each template and all together, and names the
// template where the limit was passed.
func TestOutputLimit(t *testing.T) {
	const limit = 4096
	cm := func(name string, size int) []byte {
		return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  pad: " + strings.Repeat("x", size) + "\n")
	}
	for _, tc := range []struct {
		name  string
		files []helm.File
		want  string
	}{{
		name:  "one template",
		files: []helm.File{{Name: "templates/a.yaml", Data: cm("a", 2*limit)}},
		want:  "big/templates/a.yaml: render limit exceeded: rendered templates larger than 4096 bytes",
	}, {
		name:  "all templates",
		files: []helm.File{{Name: "templates/a.yaml", Data: cm("a", limit/2)}, {Name: "templates/b.yaml", Data: cm("b", limit/2)}},
		want:  "big/templates/b.yaml: render limit exceeded: rendered templates larger than 4096 bytes",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			chart := helm.Chart{Dir: "big", Files: append(tc.files, helm.File{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: big\nversion: 1.0.0\n")})}
			_, err := helm.V3(logr.Discard()).Template(context.Background(), chart, helm.Release{Name: "big", Namespace: "default", MaxBytes: limit})
			rendertest.WantError(t, err, render.ErrLimit, tc.want)
		})
	}
}

// TestChartLimit: a chart over the byte limit is refused with an error naming
// the file that takes it past the limit, in walk order.
func TestChartLimit(t *testing.T) {
	const size = 100
	cm := func(name string, size int) *fstest.MapFile {
		data := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  pad: "
		return &fstest.MapFile{Data: []byte(data + strings.Repeat("x", size-len(data)-1) + "\n")}
	}
	chartYAML := "apiVersion: v2\nname: many\nversion: 1.0.0\n"
	fsys := fstest.MapFS{"chart/Chart.yaml": {Data: []byte(chartYAML)}}
	for i := range 60 {
		fsys[fmt.Sprintf("chart/templates/t%02d.yaml", i)] = cm(fmt.Sprintf("t%02d", i), size)
	}
	// Chart.yaml and t00 to t16 fit; t17 goes past the limit.
	maxBytes := int64(len(chartYAML) + 17*size + size/2)
	_, err := helm.New(helm.Options{}).Render(context.Background(), render.Input{FS: fsys, Dir: "chart"},
		render.Options{Limits: render.Limits{MaxBytes: maxBytes}})
	rendertest.WantError(t, err, render.ErrLimit, fmt.Sprintf("chart/templates/t17.yaml: render limit exceeded: chart larger than %d bytes", maxBytes))

}
