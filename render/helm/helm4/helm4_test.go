package helm4_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/helm/helm4"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

// versions is a chart that says which Helm and which Kubernetes render it.
var versions = fstest.MapFS{
	"c/Chart.yaml": {Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n")},
	"c/templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n" +
		"data: {helm: {{ .Capabilities.HelmVersion.Version | trunc 2 | quote }}, kube: {{ .Capabilities.KubeVersion.Version | quote }}}\n")},
}

func data(t *testing.T, res *render.Result) map[string]any {
	t.Helper()
	if len(res.Manifests) != 1 {
		t.Fatalf("%d objects, want 1", len(res.Manifests))
	}
	d, _ := res.Manifests[0].Object.Object["data"].(map[string]any)
	return d
}

// TestSelected: helm.Options.Engine selects Helm 4, through helm.Renderer and
// render.Auto; unset, it is Helm 3. Either way the Renderer gives charts the
// Kubernetes version of the build, not Helm 4's default in a test binary
// (v1.20.0).
func TestSelected(t *testing.T) {
	in := render.Input{FS: versions, Dir: "c"}
	for _, tc := range []struct {
		name     string
		renderer render.Renderer
		helm     string
	}{
		{"Renderer, default", helm.New(helm.Options{}), "v3"},
		{"Renderer, Helm 4", helm.New(helm.Options{Engine: helm4.New(logr.Discard())}), "v4"},
		{"Auto, Helm 4", render.Auto{Helm: helm.New(helm.Options{Engine: helm4.New(logr.Discard())})}, "v4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.renderer.Render(context.Background(), in, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := data(t, res); d["helm"] != tc.helm || d["kube"] != "v1.37.0" {
				t.Errorf("rendered by Helm %v for Kubernetes %v, want %s and v1.37.0", d["helm"], d["kube"], tc.helm)
			}
		})
	}
	// Called directly with no version, the engine has Helm 4's default.
	out, err := helm4.New(logr.Discard()).Template(context.Background(), helm.Chart{Dir: "c", Files: []helm.File{
		{Name: "Chart.yaml", Data: versions["c/Chart.yaml"].Data}, {Name: "templates/cm.yaml", Data: versions["c/templates/cm.yaml"].Data},
	}}, helm.Release{Name: "r", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Documents[0].Content, `kube: "v1.20.0"`) {
		t.Errorf("Template without KubeVersion in a test binary:\n%s", out.Documents[0].Content)
	}
}

// TestTemplateErrors: what the engine refuses, with errors naming the chart
// or the template, and the byte limit checked on the templates' output.
func TestTemplateErrors(t *testing.T) {
	chart := func(chartYAML string, templates ...string) helm.Chart {
		c := helm.Chart{Dir: "charts/c", Files: []helm.File{{Name: "Chart.yaml", Data: []byte(chartYAML)}}}
		for i, tpl := range templates {
			c.Files = append(c.Files, helm.File{Name: fmt.Sprintf("templates/t%d.yaml", i), Data: []byte(tpl)})
		}
		return c
	}
	const chartYAML = "apiVersion: v2\nname: c\nversion: 0.1.0\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {pad: " + strings.Repeat("x", 600) + "}\n"
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		chart    helm.Chart
		rel      helm.Release
		sentinel error
		contains string
	}{
		{name: "library chart", chart: chart(chartYAML + "type: library\n"), contains: "chart charts/c: library charts are not installable"},
		{name: "bad release name", chart: chart(chartYAML), rel: helm.Release{Name: "Not_A_Name"}, contains: `release name "Not_A_Name"`},
		{name: "bad kube version", chart: chart(chartYAML), rel: helm.Release{KubeVersion: "one"}, contains: `kube version "one"`},
		{name: "missing subchart", chart: chart(chartYAML + "dependencies:\n- {name: sub, version: 1.0.0}\n"),
			contains: "chart charts/c: found in Chart.yaml, but missing in charts/ directory: sub"},
		{name: "output over the limit", chart: chart(chartYAML, cm, cm), rel: helm.Release{MaxBytes: 1000},
			sentinel: render.ErrLimit, contains: "c/templates/t1.yaml: render limit exceeded: rendered templates larger than 1000 bytes"},
		{name: "canceled", ctx: canceled, chart: chart(chartYAML, cm), sentinel: context.Canceled, contains: "canceled"},
		// Helm reads the file, or fetches the URL, a values schema refers to.
		{name: "values schema refers to a file", chart: withSchema(chart(chartYAML, cm), `{"properties": {"r": {"$ref": "file:///etc/passwd"}}}`),
			sentinel: render.ErrOutsideRoot, contains: "render chart charts/c: values don't meet the specifications of the schema(s) in the following chart(s):\nc:\n"},
		{name: "values schema refers to a URL", chart: withSchema(chart(chartYAML, cm), `{"$id": "http://127.0.0.1:1/", "properties": {"r": {"$ref": "s.json"}}}`),
			sentinel: render.ErrRemote, contains: "values schema refers to http://127.0.0.1:1/s.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rel.Name == "" {
				tc.rel.Name = "r"
			}
			_, err := helm4.New(logr.Discard()).Template(cmpCtx(tc.ctx), tc.chart, tc.rel)
			rendertest.WantError(t, err, tc.sentinel, tc.contains)
		})
	}
}

func withSchema(c helm.Chart, schema string) helm.Chart {
	c.Files = append(c.Files, helm.File{Name: "values.schema.json", Data: []byte(schema)})
	return c
}

func cmpCtx(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// TestWarningsNotPrinted: what Helm 4 logs through slog's default logger and
// the standard logger becomes the render's warnings and lines of the logger,
// for each of concurrent renders, and nothing is printed.
func TestWarningsNotPrinted(t *testing.T) {
	fsys := fstest.MapFS{
		"c/Chart.yaml":  {Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n")},
		"c/values.yaml": {Data: []byte("config: plain\n")},
		"c/templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {r: {{ .Values.config | quote }}}\n---\n" +
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {helm.sh/hook: bogus}}\n")},
	}
	var (
		mu     sync.Mutex
		logged []string
	)
	r := helm.New(helm.Options{Engine: helm4.New(funcr.New(func(_, args string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, args)
	}, funcr.Options{Verbosity: 1}))})
	opts := render.Options{Helm: render.HelmOptions{Values: map[string]any{"config": map[string]any{"a": 1}}}}
	want := []string{"warning: skipped value for c.config: Not a table.", "INFO skipping unknown hooks hookTypes=bogus"}
	printed := rendertest.Printed(t, func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				res, err := r.Render(context.Background(), render.Input{FS: fsys, Dir: "c"}, opts)
				switch {
				case err != nil:
					t.Error(err)
				case !slices.Equal(res.Warnings, want):
					t.Errorf("warnings %q, want %q", res.Warnings, want)
				}
			})
		}
		wg.Wait()
	})
	if printed != "" {
		t.Errorf("the render printed:\n%s", printed)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 16 || !strings.Contains(logged[0], "helm warning") {
		t.Errorf("logged %d lines, want 16 warnings: %q", len(logged), logged)
	}
}

// TestImports: the Helm 4 engine links Helm 4's chart loader and template
// engine only, not its actions, release storage (and SQL drivers), kubectl,
// cli-runtime, cobra or the Wasm runtime of its plugins; and render/helm,
// which programs that keep Helm 3 import, does not link Helm 4 at all.
func TestImports(t *testing.T) {
	goTool := testtool.Require(t, "go")
	deps := func(pkg string) []string {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{".", []string{
			"helm.sh/helm/v4/pkg/action", "helm.sh/helm/v4/pkg/storage", "helm.sh/helm/v4/pkg/kube",
			"helm.sh/helm/v4/pkg/cli", "helm.sh/helm/v4/pkg/cmd", "helm.sh/helm/v4/pkg/repo", "helm.sh/helm/v4/pkg/getter",
			"github.com/lib/pq", "github.com/jmoiron/sqlx", "github.com/tetratelabs/wazero", "github.com/extism/go-sdk",
			"k8s.io/kubectl", "k8s.io/cli-runtime", "github.com/spf13/cobra", "sigs.k8s.io/controller-runtime",
		}},
		{"..", []string{"helm.sh/helm/v4"}},
	} {
		for _, p := range deps(tc.pkg) {
			if slices.ContainsFunc(tc.forbidden, func(f string) bool { return p == f || strings.HasPrefix(p, f+"/") }) {
				t.Errorf("%s links %s", tc.pkg, p)
			}
		}
	}
}
