package helm_test

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/helm/helm4"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

// parityCase is a chart of the package's tests rendered by both engines, with
// every way Helm 4's render differs from Helm 3's and why.
type parityCase struct {
	name string
	fsys func(t *testing.T) fs.FS
	dir  string
	opts render.HelmOptions
	// objects turns one of V3's objects into Helm 4's; nil when they are equal.
	objects func(m *object.Manifest)
	// warnings are Helm 4's warnings when they differ from Helm 3's.
	warnings []string
	// err is what Helm 4's error says when it differs from Helm 3's ("" when
	// they are the same, or both render).
	err string
	// renders4 is set when Helm 4 renders what Helm 3 refuses.
	renders4 bool
	// why explains the differences, naming the Helm change.
	why string
	// cli compares each engine with its program (helm, helm4).
	cli bool
}

// engineOutcome is what a render returns, for comparison.
type engineOutcome struct {
	manifests []object.Manifest
	warnings  []string
	err       string
}

func renderWith(t *testing.T, e helm.Engine, tc parityCase) engineOutcome {
	t.Helper()
	res, err := helm.New(helm.Options{Engine: e}).Render(context.Background(), render.Input{FS: tc.fsys(t), Dir: tc.dir}, render.Options{Helm: tc.opts})
	if err != nil {
		return engineOutcome{err: err.Error()}
	}
	return engineOutcome{manifests: res.Manifests, warnings: res.Warnings}
}

func mapFS(fsys fstest.MapFS) func(*testing.T) fs.FS {
	return func(*testing.T) fs.FS { return fsys }
}

func dirFS(dir string) func(*testing.T) fs.FS {
	return func(t *testing.T) fs.FS { return artifact(t, dir) }
}

// TestEnginesParity renders every chart of the tests with helm.V3 and
// helm4.New and fails on a difference the case does not explain.
func TestEnginesParity(t *testing.T) {
	for _, tc := range parityCases() {
		t.Run(tc.name, func(t *testing.T) {
			v3 := renderWith(t, helm.V3(logr.Discard()), tc)
			v4 := renderWith(t, helm4.New(logr.Discard()), tc)
			var diffs []string
			switch {
			case tc.renders4:
				if v3.err == "" || v4.err != "" || len(v4.manifests) == 0 {
					t.Fatalf("want Helm 3 to fail and Helm 4 to render; errors %q and %q", v3.err, v4.err)
				}
				diffs = append(diffs, "error")
			case v3.err != v4.err:
				if tc.err == "" || !strings.Contains(v4.err, tc.err) {
					t.Errorf("errors differ, unexplained:\nHelm 3: %s\nHelm 4: %s", v3.err, v4.err)
				}
				diffs = append(diffs, "error")
			case tc.err != "":
				t.Errorf("Helm 4's error is Helm 3's (%q), want one containing %q", v4.err, tc.err)
			}
			if !slices.Equal(v3.warnings, v4.warnings) {
				if !slices.Equal(v4.warnings, tc.warnings) {
					t.Errorf("warnings differ, unexplained:\nHelm 3: %q\nHelm 4: %q", v3.warnings, v4.warnings)
				}
				diffs = append(diffs, "warnings")
			} else if tc.warnings != nil {
				t.Errorf("Helm 4's warnings are Helm 3's (%q), want %q", v4.warnings, tc.warnings)
			}
			if !tc.renders4 && !reflect.DeepEqual(v3.manifests, v4.manifests) {
				fixed := v3.manifests
				if tc.objects != nil {
					fixed = make([]object.Manifest, len(v3.manifests))
					for i, m := range v3.manifests {
						fixed[i] = object.Manifest{Object: m.Object.DeepCopy(), Origin: m.Origin}
						tc.objects(&fixed[i])
					}
				}
				if !reflect.DeepEqual(fixed, v4.manifests) {
					t.Errorf("objects differ, unexplained:\n--- Helm 3\n%s--- Helm 4\n%s", dump(v3.manifests), dump(v4.manifests))
				}
				diffs = append(diffs, "objects")
			} else if tc.objects != nil {
				t.Error("Helm 4's objects are Helm 3's, want them changed")
			}
			if len(v3.manifests) == 0 && v3.err == "" {
				t.Error("no objects")
			}
			if len(diffs) > 0 && tc.why == "" {
				t.Errorf("%s differ with no reason given", strings.Join(diffs, ", "))
			}
			if len(diffs) > 0 {
				t.Logf("differ in %s: %s", strings.Join(diffs, ", "), tc.why)
			}
		})
	}
}

// TestEnginesAsTheirPrograms: each engine renders the charts as its own
// program, `helm template` (Helm 3) and `helm4 template`, so the differences
// TestEnginesParity finds are Helm's, not the engines'.
func TestEnginesAsTheirPrograms(t *testing.T) {
	for _, tc := range parityCases() {
		if !tc.cli {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, tc.fsys(t)); err != nil {
				t.Fatal(err)
			}
			args := cliArgs(t, dir, tc)
			for _, e := range []struct {
				program string
				engine  helm.Engine
			}{{"helm", helm.V3(logr.Discard())}, {"helm4", helm4.New(logr.Discard())}} {
				want := rendertest.CLI(t, dir, e.program, args...)
				got := renderWith(t, e.engine, tc)
				if got.err != "" {
					t.Fatal(got.err)
				}
				rendertest.Equal(t, want, object.Objects(got.manifests))
			}
		})
	}
}

// cliArgs returns the arguments of `helm template` that render tc as the
// renderer does, writing its inline values into a file of dir.
func cliArgs(t *testing.T, dir string, tc parityCase) []string {
	t.Helper()
	h := tc.opts
	name := h.ReleaseName
	if name == "" {
		name = path.Base(tc.dir)
	}
	args := []string{"template", name, tc.dir, "--kube-version", cmp.Or(h.KubeVersion, libraryKubeVersion(t))}
	if h.Namespace != "" {
		args = append(args, "-n", h.Namespace)
	}
	for _, f := range h.ValuesFiles {
		args = append(args, "-f", f)
	}
	if h.Values != nil {
		data, err := yaml.Marshal(h.Values)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "inline-values.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-f", "inline-values.yaml")
	}
	for _, s := range h.Set {
		args = append(args, "--set", s)
	}
	for _, s := range h.SetString {
		args = append(args, "--set-string", s)
	}
	for _, v := range h.APIVersions {
		args = append(args, "--api-versions", v)
	}
	if !h.SkipCRDs {
		args = append(args, "--include-crds")
	}
	if !h.IncludeTests {
		args = append(args, "--skip-tests")
	}
	return args
}

func dump(ms []object.Manifest) string {
	var b strings.Builder
	for _, m := range ms {
		y, _ := yaml.Marshal(m.Object.Object)
		fmt.Fprintf(&b, "# %s\n%s", m.Origin, y)
	}
	return b.String()
}

// files is an artifact of files given by slash-separated path.
func files(m map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range m {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// parityCases are the charts of the package's tests, with the options the tests
// render them with, and a chart of what Helm 4 changed on purpose.
func parityCases() []parityCase {
	sorted := files(map[string]string{"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n"})
	for name, content := range helm.SortFixture {
		sorted[name] = &fstest.MapFile{Data: []byte(content)}
	}
	// A Secret named n, which YAML reads as false: the renderer refuses it.
	delete(sorted, "c/templates/num.yaml")
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n"
	bad := func(name, data string) func(*testing.T) fs.FS {
		return mapFS(files(map[string]string{"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n", "c/templates/cm.yaml": cm, name: data}))
	}
	return []parityCase{
		{name: "shop, values and capabilities", cli: true, fsys: dirFS("testdata/artifact"), dir: "shop", opts: prod},
		{name: "shop, defaults with tests, without CRDs", cli: true, fsys: dirFS("testdata/artifact"), dir: "shop",
			opts: render.HelmOptions{ReleaseName: "release-name", SkipCRDs: true, IncludeTests: true}},
		{name: "monitor", cli: true, fsys: dirFS("testdata/monitor"), dir: "monitor", opts: render.HelmOptions{ReleaseName: "rel"}},
		{name: "monitor on an older Kubernetes", fsys: dirFS("testdata/monitor"), dir: "monitor", opts: render.HelmOptions{KubeVersion: "v1.24.0"}},
		{name: "edge cases", fsys: mapFS(edgeChart), dir: "c", opts: render.HelmOptions{IncludeTests: true},
			objects: func(m *object.Manifest) {
				if m.Object.GetKind() == "Job" {
					_ = unstructured.SetNestedField(m.Object.Object, "ends the hook\n", "spec", "s")
				}
			},
			warnings: []string{"INFO skipping unknown hooks hookTypes=pre-install,bogus"},
			why: "Helm 4 splits documents keeping their line endings (helm/helm#31952), so a block scalar that ends a hook keeps its newline; " +
				"it logs an unknown hook through log/slog, as all of Helm 4 logs, in slog's format"},
		{name: "sorting", fsys: mapFS(sorted), dir: "c", opts: render.HelmOptions{IncludeTests: true},
			objects: func(m *object.Manifest) {
				if m.Object.GetKind() == "Alpha" {
					m.Origin.Line = 1
				}
			},
			warnings: []string{"INFO skipping unknown hooks hookTypes=1", "INFO skipping unknown hooks hookTypes=pre-install,bogus"},
			why: "Helm 4 splits documents at every line that starts with ---, where Helm 3 left the second of two separator lines " +
				"in a row at the top of the next document (one line further down); it logs an unknown hook through log/slog"},
		{name: "warnings", cli: true, dir: "c", opts: render.HelmOptions{Values: map[string]any{"config": map[string]any{"a": 1}}},
			fsys: mapFS(files(map[string]string{
				"c/Chart.yaml":        "apiVersion: v2\nname: c\nversion: 0.1.0\ndeprecated: true\n",
				"c/values.yaml":       "config: plain\n",
				"c/requirements.yaml": "dependencies: []\n",
				"c/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {r: {{ .Values.config | quote }}}\n",
			}))},
		{name: "apiVersion v1 with requirements.yaml", dir: "legacy", opts: render.HelmOptions{ReleaseName: "shop"}, fsys: mapFS(files(legacyChart))},
		{name: "aliased dependencies", dir: "app", opts: render.HelmOptions{ReleaseName: "shop"},
			fsys: mapFS(files(map[string]string{
				"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n" +
					"- {name: cache, alias: sessions, version: 0.1.0, repository: file://../cache}\n" +
					"- {name: cache, alias: pages, version: 0.1.0, repository: file://../cache, condition: pages.enabled}\n",
				"app/values.yaml":                "pages: {enabled: false}\n",
				"cache/Chart.yaml":               "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
				"cache/templates/configmap.yaml": cm,
			}))},
		{name: "argocd apps", cli: true, fsys: dirFS("../testdata/argocd-apps"), dir: "apps"},
		{name: "argocd helm-guestbook", cli: true, fsys: dirFS("../testdata/argocd-apps"), dir: "helm-guestbook"},
		{name: "broken template", fsys: bad("c/templates/bad.yaml", "name: {{ .Values.x | nosuchfunc }}\n"), dir: "c"},
		{name: "template renders invalid YAML", fsys: bad("c/templates/bad.yaml", "a: b: c\n"), dir: "c"},
		{name: "missing dependency", fsys: bad("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n"), dir: "c"},
		{name: "invalid Chart.yaml", fsys: bad("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: one\n"), dir: "c"},
		{name: "required value missing", fsys: bad("c/templates/bad.yaml", "name: {{ required \"x is required\" .Values.x }}\n"), dir: "c"},
		{name: "values schema", fsys: bad("c/values.schema.json", `{"type": "object", "properties": {"replicas": {"type": "integer"}}}`), dir: "c",
			opts: render.HelmOptions{Set: []string{"replicas=many"}}},
		{name: "values schema refers to a file", fsys: bad("c/values.schema.json", `{"properties": {"r": {"$ref": "file:///etc/hostname"}}}`), dir: "c"},
		{name: "what Helm 4 changed", cli: true, dir: "c", opts: render.HelmOptions{KubeVersion: "v1.30.1-gke.1"},
			fsys: mapFS(files(map[string]string{
				"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
				"c/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n" +
					"  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n" +
					"  helm: {{ .Capabilities.HelmVersion.Version | trunc 2 | quote }}\n" +
					"  kept: |+\n    trailing newlines\n\n\n",
				// After the ConfigMap, so that the programs, which trim their
				// output's end, print its newlines.
				"c/templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: svc}\n",
			})),
			objects: func(m *object.Manifest) {
				if m.Object.GetKind() != "ConfigMap" {
					return
				}
				_ = unstructured.SetNestedField(m.Object.Object, "v1.30.1-gke.1", "data", "kube")
				_ = unstructured.SetNestedField(m.Object.Object, "v4", "data", "helm")
				_ = unstructured.SetNestedField(m.Object.Object, "trailing newlines\n\n\n\n", "data", "kept")
			},
			why: ".Capabilities.KubeVersion keeps a vendor suffix (helm/helm#31528); .Capabilities.HelmVersion is Helm 4's; " +
				"documents keep their line endings (helm/helm#31952)"},
		{name: "new template functions", fsys: bad("c/templates/new.yaml", "{{ mustToYaml (dict \"a\" 1) }}\n"), dir: "c",
			renders4: true, why: "Helm 4 adds mustToYaml and mustToJson (helm/helm#30553) and mustToToml (helm/helm#31957)"},
	}
}

// TestEngineV4Remote: with the Helm 4 engine, remote charts are still an
// opt-in of the Renderer, with its limits: a chart from a repository renders
// as `helm4 template --repo` renders it; without Options.Remote, or over the
// byte limit, the render fails before the engine runs.
func TestEngineV4Remote(t *testing.T) {
	repo := newChartRepo(t, false, "", "")
	repo.add(t, webCharts()...)
	ref := render.HelmChart{Repository: repo.URL, Name: "web", Version: "^1.0.0"}
	v4 := helm4.New(logr.Discard())
	res, err := renderRemote(t, helm.New(helm.Options{Engine: v4, Remote: &helm.RemoteOptions{CacheDir: t.TempDir()}}), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := renderedVersion(t, res); got != "1.2.0" {
		t.Errorf("^1.0.0 rendered version %s, want 1.2.0", got)
	}
	helmHome(t)
	want := rendertest.CLI(t, t.TempDir(), "helm4", "template", "shop", "web", "-n", "prod", "--repo", repo.URL, "--version", "^1.0.0")
	rendertest.Equal(t, want, object.Objects(res.Manifests))

	before := repo.count("")
	_, err = renderRemote(t, helm.New(helm.Options{Engine: v4}), ref)
	rendertest.WantError(t, err, render.ErrRemote, "set helm.Options.Remote")
	if repo.count("") != before {
		t.Error("a request without the opt-in")
	}
	_, err = helm.New(helm.Options{Engine: v4, Remote: &helm.RemoteOptions{CacheDir: t.TempDir()}}).Render(context.Background(), render.Input{},
		render.Options{Helm: render.HelmOptions{Chart: &ref}, Limits: render.Limits{MaxBytes: 100}})
	rendertest.WantError(t, err, render.ErrLimit, "web@1.2.0")
}
