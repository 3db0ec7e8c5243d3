package helm_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

// appArtifact writes an artifact with the chart app, which depends on web from
// repository (an HTTP repository or an OCI one) and on the chart common of the
// artifact (file://../common).
func appArtifact(t *testing.T, repository, webVersion string) string {
	t.Helper()
	return writeTree(t, map[string]string{
		"app/Chart.yaml": `apiVersion: v2
name: app
version: 0.1.0
dependencies:
- name: web
  version: "` + webVersion + `"
  repository: ` + repository + `
- name: common
  version: 0.1.0
  repository: file://../common
`,
		"app/values.yaml":             "web:\n  greeting: from-app\n",
		"app/templates/svc.yaml":      "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-app\n",
		"common/Chart.yaml":           "apiVersion: v2\nname: common\nversion: 0.1.0\n",
		"common/templates/role.yaml":  "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {{ .Release.Name }}-common\n",
		"common/templates/_name.tpl":  "{{- define \"common.name\" -}}common{{- end -}}\n",
		"common/templates/notes.yaml": "# {{ include \"common.name\" . }}\n",
	})
}

// writeTree writes files, by slash-separated path, into a new directory and
// returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// helmRun runs the helm program in dir.
func helmRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(testtool.Require(t, "helm"), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestDependenciesFromChartLock(t *testing.T) {
	for _, kind := range []string{"HTTP", "OCI"} {
		t.Run(kind, func(t *testing.T) {
			helmHome(t)
			var (
				repository string
				publish    func(version string)
				requests   func() int
				opts       = helm.RemoteOptions{CacheDir: t.TempDir()}
				cliArgs    []string
			)
			if kind == "HTTP" {
				repo := newChartRepo(t, false, "", "")
				repository = repo.URL
				publish = func(v string) { repo.add(t, testChart("web", v)) }
				requests = func() int { return repo.count("") }
			} else {
				reg := newOCIRegistry(t, "", "")
				repository = reg.repository()
				publish = func(v string) { reg.push(t, testChart("web", v)) }
				requests = func() int { return reg.count("") }
				opts.PlainHTTP = true
				cliArgs = []string{"--plain-http"}
			}
			publish("1.0.0")
			dir := appArtifact(t, repository, ">=1.0.0")
			// The lock, and the charts helm vendors, are made by the helm program
			// while 1.0.0 is the newest version.
			helmRun(t, dir, append([]string{"dependency", "update", "app"}, cliArgs...)...)
			want := rendertest.CLI(t, dir, "helm", "template", "shop", "app", "-n", "prod")
			if len(want) != 3 {
				t.Fatalf("helm printed %d objects, want 3", len(want))
			}
			if err := os.RemoveAll(filepath.Join(dir, "app", "charts")); err != nil {
				t.Fatal(err)
			}
			publish("1.2.0")

			in := render.Input{FS: artifact(t, dir), Dir: "app"}
			ropts := render.Options{Helm: render.HelmOptions{ReleaseName: "shop", Namespace: "prod"}}
			r := helm.New(helm.Options{Remote: &opts})
			res, err := r.Render(context.Background(), in, ropts)
			if err != nil {
				t.Fatal(err)
			}
			// The lock's 1.0.0, not the newest 1.2.0 that >=1.0.0 allows.
			rendertest.Equal(t, want, object.Objects(res.Manifests))
			pin, err := r.Pin(context.Background(), in, ropts)
			if err != nil || !strings.Contains(pin, "1.0.0") {
				t.Errorf("pin = %q, %v; want one naming 1.0.0", pin, err)
			}

			// Without the opt-in: an error naming the dependency, and no request.
			before := requests()
			_, err = helm.New(helm.Options{}).Render(context.Background(), in, ropts)
			rendertest.WantError(t, err, render.ErrRemote, "dependency web")
			if requests() != before {
				t.Errorf("%d requests without the opt-in", requests()-before)
			}

			// Without the lock, Chart.yaml's constraint picks the newest version.
			lock, err := os.ReadFile(filepath.Join(dir, "app", "Chart.lock"))
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "app", "Chart.lock"))
			res, err = r.Render(context.Background(), in, ropts)
			if err != nil {
				t.Fatal(err)
			}
			if v := webVersion(res); v != "1.2.0" {
				t.Errorf("without a lock, web %s rendered, want 1.2.0", v)
			}

			// A lock made for another Chart.yaml is refused.
			if err := os.WriteFile(filepath.Join(dir, "app", "Chart.lock"), lock, 0o644); err != nil {
				t.Fatal(err)
			}
			chartYAML := filepath.Join(dir, "app", "Chart.yaml")
			data, err := os.ReadFile(chartYAML)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(chartYAML, []byte(strings.Replace(string(data), ">=1.0.0", "^1.0.0", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = r.Render(context.Background(), in, ropts)
			rendertest.WantError(t, err, nil, "app/Chart.lock: out of sync with Chart.yaml")
		})
	}
}

func webVersion(res *render.Result) string {
	for _, m := range res.Manifests {
		if m.Object.GetKind() == "ConfigMap" {
			v, _ := m.Object.Object["data"].(map[string]any)["version"].(string)
			return v
		}
	}
	return ""
}

func TestDependencyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, chartYAML, contains string
		sentinel                  error
	}{
		{name: "no repository", chartYAML: "dependencies:\n- name: sub\n  version: 1.0.0\n", contains: "dependency sub is not in charts/ and names no repository"},
		{name: "repository alias", chartYAML: "dependencies:\n- name: sub\n  version: 1.0.0\n  repository: \"@stable\"\n", contains: "repositories.yaml"},
		{name: "file:// out of the artifact", chartYAML: "dependencies:\n- name: sub\n  version: 1.0.0\n  repository: file://../../etc\n",
			sentinel: render.ErrOutsideRoot, contains: "file://../../etc"},
		{name: "file:// chart of another name", chartYAML: "dependencies:\n- name: sub\n  version: 1.0.0\n  repository: file://../other\n",
			contains: `holds chart "other"`},
		{name: "several remote dependencies: all named", chartYAML: "dependencies:\n- {name: a, version: 1.0.0, repository: https://charts.example.com}\n" +
			"- {name: b, version: 1.0.0, repository: file://../other}\n- {name: c, version: 1.0.0, repository: oci://registry.example.com/charts}\n",
			sentinel: render.ErrRemote, contains: "c/Chart.yaml: dependencies a (https://charts.example.com), c (oci://registry.example.com/charts) are not in charts/"},
		{name: "several bad dependencies: all named", chartYAML: "dependencies:\n- {name: a, version: 1.0.0}\n- {name: b, version: 1.0.0, repository: '@stable'}\n",
			contains: "c/Chart.yaml: dependency a is not in charts/ and names no repository\nc/Chart.yaml: dependency b: repository @stable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{
				"c/Chart.yaml":     "apiVersion: v2\nname: c\nversion: 0.1.0\n" + tc.chartYAML,
				"other/Chart.yaml": "apiVersion: v2\nname: other\nversion: 1.0.0\n",
			})
			_, err := renderChart(t, artifact(t, dir), "c", render.HelmOptions{})
			rendertest.WantError(t, err, tc.sentinel, tc.contains)
		})
	}
}

// legacyChart is an apiVersion v1 chart, legacy, with a requirements.yaml
// naming the chart common of the artifact.
var legacyChart = map[string]string{
	"legacy/Chart.yaml":          "apiVersion: v1\nname: legacy\nversion: 0.1.0\n",
	"legacy/requirements.yaml":   "dependencies:\n- name: common\n  version: 0.1.0\n  repository: file://../common\n",
	"legacy/values.yaml":         "common:\n  role: reader\n",
	"legacy/templates/svc.yaml":  "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-legacy\n",
	"common/Chart.yaml":          "apiVersion: v1\nname: common\nversion: 0.1.0\n",
	"common/templates/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {{ .Release.Name }}-{{ .Values.role }}\n",
}

// TestRequirementsYAML: an apiVersion v1 chart lists its dependencies in
// requirements.yaml (and locks them in requirements.lock); a file:// one is taken
// from the artifact, as from a v2 Chart.yaml, and the render equals `helm
// template` after `helm dependency build`.
func TestRequirementsYAML(t *testing.T) {
	helmHome(t)
	dir := writeTree(t, legacyChart)
	in := render.Input{FS: artifact(t, dir), Dir: "legacy"}
	opts := render.Options{Helm: render.HelmOptions{ReleaseName: "shop"}}
	res, err := helm.New(helm.Options{}).Render(context.Background(), in, opts)
	if err != nil {
		t.Fatal(err)
	}

	cli := t.TempDir()
	if err := os.CopyFS(cli, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	helmRun(t, cli, "dependency", "build", "legacy")
	want := rendertest.CLI(t, cli, "helm", "template", "shop", "legacy")
	if len(want) != 2 {
		t.Fatalf("helm printed %d objects, want 2", len(want))
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))

	// With the lock `helm dependency build` wrote, which must match requirements.yaml.
	lock, err := os.ReadFile(filepath.Join(cli, "legacy", "requirements.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "legacy", "requirements.lock"), lock, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err = helm.New(helm.Options{}).Render(context.Background(), in, opts); err != nil {
		t.Fatal(err)
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))
}

// TestAliasedDependency: one chart listed twice under two aliases (as
// enterprise-metrics lists memcached) is one chart to fetch, and one to name in
// errors; each alias renders, as after `helm dependency build`.
func TestAliasedDependency(t *testing.T) {
	helmHome(t)
	dir := writeTree(t, map[string]string{
		"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n" +
			"- {name: cache, alias: sessions, version: 0.1.0, repository: file://../cache}\n" +
			"- {name: cache, alias: pages, version: 0.1.0, repository: file://../cache}\n" +
			"- {name: web, alias: web-a, version: 1.0.0, repository: https://charts.example.com}\n" +
			"- {name: web, alias: web-b, version: 1.0.0, repository: https://charts.example.com}\n",
		"cache/Chart.yaml":               "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
		"cache/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n",
	})
	in := render.Input{FS: artifact(t, dir), Dir: "app"}
	_, err := helm.New(helm.Options{}).Render(context.Background(), in, render.Options{})
	rendertest.WantError(t, err, render.ErrRemote, "app/Chart.yaml: dependency web (https://charts.example.com) is not in charts/")

	chartYAML := filepath.Join(dir, "app", "Chart.yaml")
	data, err := os.ReadFile(chartYAML)
	if err != nil {
		t.Fatal(err)
	}
	local := strings.Join(strings.SplitAfter(string(data), "\n")[:6], "")
	if err := os.WriteFile(chartYAML, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := helm.New(helm.Options{}).Render(context.Background(), in, render.Options{Helm: render.HelmOptions{ReleaseName: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	cli := t.TempDir()
	if err := os.CopyFS(cli, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	helmRun(t, cli, "dependency", "build", "app")
	want := rendertest.CLI(t, cli, "helm", "template", "shop", "app")
	if len(want) != 2 {
		t.Fatalf("helm printed %d objects, want 2", len(want))
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))

	// Two versions of one chart, under two aliases: both render.
	dir = writeTree(t, map[string]string{
		"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n" +
			"- {name: cache, alias: old, version: 0.1.0, repository: file://../cache-1}\n" +
			"- {name: cache, alias: new, version: 0.2.0, repository: file://../cache-2}\n",
		"cache-1/Chart.yaml":               "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
		"cache-1/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}-{{ .Chart.Version }}\n",
		"cache-2/Chart.yaml":               "apiVersion: v2\nname: cache\nversion: 0.2.0\n",
		"cache-2/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}-{{ .Chart.Version }}\n",
	})
	res, err = helm.New(helm.Options{}).Render(context.Background(), render.Input{FS: artifact(t, dir), Dir: "app"}, render.Options{Helm: render.HelmOptions{ReleaseName: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	helmRun(t, dir, "dependency", "build", "app")
	want = rendertest.CLI(t, dir, "helm", "template", "shop", "app")
	if len(want) != 2 {
		t.Fatalf("helm printed %d objects, want 2", len(want))
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))
}
