package render_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// TestArgoCDExampleApps renders each application of a repository laid out like
// Argo CD's example apps with render.Auto, side by side with `kustomize build` and
// `helm template`: plain YAML with hooks named by generateName, sync waves, a
// kustomization using the deprecated bases field, charts. Nothing is printed; the
// deprecation is a warning of its render.
func TestArgoCDExampleApps(t *testing.T) {
	const repo = "testdata/argocd-apps"
	root, err := os.OpenRoot(repo)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	auto := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
	for _, tc := range []struct {
		app      string
		kind     render.Kind
		want     []string // for plain YAML, the objects' IDs (generateName as the name)
		warnings []string
	}{
		{app: "guestbook", kind: render.KindKustomize},
		{app: "pre-post-sync", kind: render.KindKustomize,
			warnings: []string{"pre-post-sync/kustomization.yaml: 'bases' is deprecated. Please use 'resources' instead. Run 'kustomize edit fix' to update your Kustomization automatically."}},
		{app: "helm-guestbook", kind: render.KindHelm},
		{app: "apps", kind: render.KindHelm},
		{app: "hooks", kind: render.KindPlain, want: []string{"batch/Job//db-migrate-", "/Service//frontend", "batch/Job//db-migrate-"}},
		{app: "sync-waves", kind: render.KindPlain, want: []string{"batch/Job//upgrade-schema-", "apps/ReplicaSet//backend", "/Service//backend"}},
	} {
		t.Run(tc.app, func(t *testing.T) {
			var res *render.Result
			printed := rendertest.Printed(t, func() {
				res, err = auto.Render(context.Background(), render.Input{FS: root.FS(), Dir: tc.app},
					render.Options{Helm: render.HelmOptions{ReleaseName: tc.app}})
			})
			if err != nil {
				t.Fatal(err)
			}
			if printed != "" {
				t.Errorf("the render printed:\n%s", printed)
			}
			if res.Renderer != string(tc.kind) {
				t.Errorf("rendered by %s, want %s", res.Renderer, tc.kind)
			}
			if !slices.Equal(res.Warnings, tc.warnings) {
				t.Errorf("warnings %q, want %q", res.Warnings, tc.warnings)
			}
			switch tc.kind {
			case render.KindKustomize:
				rendertest.Equal(t, rendertest.CLI(t, filepath.Join(repo, tc.app), "kustomize", "build", "."), object.Objects(res.Manifests))
			case render.KindHelm:
				rendertest.Equal(t, rendertest.CLI(t, repo, "helm", "template", tc.app, tc.app), object.Objects(res.Manifests))
			default:
				var got []string
				for _, m := range res.Manifests {
					id := object.IDOf(m.Object)
					if id.Name == "" {
						id.Name = m.Object.GetGenerateName()
					}
					got = append(got, id.String())
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("objects:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
			}
		})
	}
}

// TestArgoCDExampleAppsRoot renders the root of the repository, where the
// applications sit side by side: each chart and kustomization below the plain
// root is rendered with its own renderer, never read as YAML (Chart.yaml,
// values.yaml and the templates are not manifests), in lexical order of the
// directories. Plain alone refuses the chart and names it.
func TestArgoCDExampleAppsRoot(t *testing.T) {
	root, err := os.OpenRoot("testdata/argocd-apps")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fsys := root.FS()
	if kind, err := render.Detect(fsys, "."); err != nil || kind != render.KindPlain {
		t.Fatalf("Detect(.) = %q, %v; want plain (charts below)", kind, err)
	}
	auto := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
	ctx := context.Background()
	res, err := auto.Render(ctx, render.Input{FS: fsys, Dir: "."}, render.Options{Helm: render.HelmOptions{ReleaseName: "ignored-below"}})
	if err != nil {
		t.Fatal(err)
	}
	var want []object.Manifest
	for _, app := range []string{"apps", "guestbook", "helm-guestbook", "hooks", "pre-post-sync", "sync-waves"} {
		r, err := auto.Render(ctx, render.Input{FS: fsys, Dir: app}, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.Manifests...)
	}
	if len(res.Manifests) != len(want) {
		t.Fatalf("%d objects, want %d", len(res.Manifests), len(want))
	}
	for i := range want {
		if got, w := object.IDOf(res.Manifests[i].Object), object.IDOf(want[i].Object); got != w || res.Manifests[i].Origin != want[i].Origin {
			t.Errorf("object %d: %s from %s, want %s from %s", i, got, res.Manifests[i].Origin, w, want[i].Origin)
		}
		if strings.HasSuffix(res.Manifests[i].Origin.File, "Chart.yaml") || strings.HasSuffix(res.Manifests[i].Origin.File, "values.yaml") {
			t.Errorf("read %s as a manifest", res.Manifests[i].Origin)
		}
	}
	if res.Renderer != string(render.KindPlain) {
		t.Errorf("renderer %q", res.Renderer)
	}

	_, err = render.Plain{}.Render(ctx, render.Input{FS: fsys, Dir: "."}, render.Options{})
	if !errors.Is(err, render.ErrNestedInput) || !strings.Contains(err.Error(), "apps/ is a Helm chart (apps/Chart.yaml)") {
		t.Errorf("Plain on the root: %v; want ErrNestedInput naming apps/Chart.yaml", err)
	}
	if _, err := (render.Auto{}).Render(ctx, render.Input{FS: fsys, Dir: "."}, render.Options{}); !errors.Is(err, render.ErrNoRenderer) || !strings.Contains(err.Error(), "apps") {
		t.Errorf("Auto without Helm on the root: %v; want ErrNoRenderer naming apps", err)
	}
	// Excluded, the charts are not rendered.
	res, err = render.Plain{}.Render(ctx, render.Input{FS: fsys, Dir: "."}, render.Options{Exclude: []string{"apps", "helm-guestbook", "guestbook", "pre-post-sync"}})
	if err != nil || len(res.Manifests) != 6 {
		t.Errorf("Plain with the charts and kustomizations excluded: %v, %d objects", err, len(res.Manifests))
	}
}
