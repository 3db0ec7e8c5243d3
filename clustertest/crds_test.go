package clustertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCRDDirsErrors: a bad CRD directory fails the start before anything runs (the
// binary directory is empty, so a start that got that far would fail otherwise).
func TestCRDDirsErrors(t *testing.T) {
	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "kustomization.yaml.orig"), []byte("x"), 0o600))
	badYAML := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(badYAML, "crd.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n"), 0o600))
	onlyOthers := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(onlyOthers, "cm.yml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), 0o600))
	missing := filepath.Join(t.TempDir(), "config", "crd", "bases")

	for name, tc := range map[string]struct{ dir, want string }{
		"missing":         {missing, missing},
		"no manifests":    {empty, empty + " holds no CustomResourceDefinition"},
		"no CRDs":         {onlyOthers, onlyOthers + " holds no CustomResourceDefinition"},
		"does not decode": {badYAML, filepath.Join(badYAML, "crd.yaml") + ":5"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Start(context.Background(), Options{BinDir: t.TempDir(), CRDDirs: []string{"testdata/crds", tc.dir}})
			require.Error(t, err)
			assert.NotErrorIs(t, err, ErrBinariesMissing)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReadCRDs(t *testing.T) {
	crds, err := readCRDs([]string{"testdata/crds"})
	require.NoError(t, err)
	var names []string
	for _, m := range crds {
		names = append(names, m.Object.GetName()+" "+m.Origin.String())
	}
	assert.Equal(t, []string{
		"gadgets.example.gitopskit.io testdata/crds/gadgets.json:1",
		"widgets.example.gitopskit.io testdata/crds/widgets.yaml:2",
	}, names)
}
