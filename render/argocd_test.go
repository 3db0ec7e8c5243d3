package render_test

import (
	"context"
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
