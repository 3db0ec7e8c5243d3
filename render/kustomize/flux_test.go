package kustomize_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// TestFluxClusterDirectory renders a directory without a kustomization whose
// subdirectories hold some (Flux's clusters/<name>, with flux-system/) as Flux's
// kustomize-controller does: like `kustomize build` of the directory with the
// kustomization Flux generates for it written into it.
func TestFluxClusterDirectory(t *testing.T) {
	const dir = "clusters/production"
	cli := t.TempDir()
	if err := os.CopyFS(cli, os.DirFS("testdata/flux")); err != nil {
		t.Fatal(err)
	}
	// What kustomize-controller generates: subdirectories with a kustomization as
	// bases, other .yaml and .yml files as resources, recursively, in lexical order.
	write(t, filepath.Join(cli, dir, "kustomization.yaml"),
		"resources:\n- ./apps.yaml\n- ./extra/quota.yml\n- ./extra/team\n- ./flux-system\n- ./infrastructure.yaml\n")
	want := rendertest.CLI(t, filepath.Join(cli, dir), "kustomize", "build", ".")
	if len(want) != 7 {
		t.Fatalf("kustomize printed %d objects, want 7", len(want))
	}

	fsys := openRoot(t, "testdata/flux").FS()
	if kind, err := render.Detect(fsys, dir); err != nil || kind != render.KindKustomize {
		t.Errorf("Detect = %q, %v; want kustomize", kind, err)
	}
	auto := render.Auto{Kustomize: kustomize.New(kustomize.Options{})}
	res, err := auto.Render(context.Background(), render.Input{FS: fsys, Dir: dir}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))
	got := map[string]string{}
	for _, m := range res.Manifests {
		got[object.IDOf(m.Object).String()] = m.Origin.String()
	}
	for id, file := range map[string]string{
		"kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps":  "clusters/production/apps.yaml",
		"/ResourceQuota/platform/pods":                                "clusters/production/extra/quota.yml",
		"rbac.authorization.k8s.io/Role/platform/team-reader":         "clusters/production/extra/team/role.yaml",
		"source.toolkit.fluxcd.io/GitRepository/flux-system/fleet":    "clusters/production/flux-system/sync.yaml",
		"kustomize.toolkit.fluxcd.io/Kustomization/flux-system/infra": "clusters/production/infrastructure.yaml",
	} {
		if got[id] != file {
			t.Errorf("origin of %s = %q, want %q", id, got[id], file)
		}
	}

}
