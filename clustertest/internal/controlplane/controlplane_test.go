package controlplane

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModuleVersions(t *testing.T) {
	v, err := ModuleVersions()
	require.NoError(t, err)
	for _, s := range []string{v.Kubernetes, v.Etcd, v.Kwok} {
		assert.Regexp(t, `^v\d+\.\d+\.\d+$`, s)
	}
	key, err := Key()
	require.NoError(t, err)
	assert.Regexp(t, `^kube-`+v.Kubernetes+`_etcd-`+v.Etcd+`_kwok-`+v.Kwok+`_[0-9a-f]{12}$`, key)
}

func TestRequired(t *testing.T) {
	gomod := []byte("module m\n\nrequire a.io/x v1.0.0\n\nrequire (\n\tb.io/y v2.1.0 // indirect\n\tb.io/yy v3.0.0\n)\n\nreplace b.io/y => b.io/y v2.2.0\n")
	assert.Equal(t, "v1.0.0", required(gomod, "a.io/x"))
	assert.Equal(t, "v2.1.0", required(gomod, "b.io/y"))
	assert.Equal(t, "", required(gomod, "c.io/z"))
}

// TestWriteModule writes a module the go command can read: go.mod and go.sum under
// their real names, the mains under cmd, and kwok as a tool of the same module.
func TestWriteModule(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteModule(dir))
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "\ntool sigs.k8s.io/kwok/cmd/kwok\n")
	assert.Contains(t, string(gomod), "k8s.io/client-go => k8s.io/client-go v0.37.2")
	assert.FileExists(t, filepath.Join(dir, "go.sum"))
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"} {
		assert.FileExists(t, filepath.Join(dir, "cmd", name, "main.go"))
	}
	assert.NoFileExists(t, filepath.Join(dir, "go.mod.txt"))
}

func TestLdflags(t *testing.T) {
	f := ldflags("v1.37.2")
	assert.Contains(t, f, "-X k8s.io/component-base/version.gitVersion=v1.37.2")
	assert.Contains(t, f, "-X k8s.io/client-go/pkg/version.gitMinor=37")
	assert.True(t, strings.HasPrefix(f, "-s -w "))
}

// TestFind takes the build of this key, else the newest complete one of the same
// Kubernetes version, and never an interrupted one or another version's.
func TestFind(t *testing.T) {
	cache := t.TempDir()
	assert.Empty(t, Find(cache))
	key, err := Key()
	require.NoError(t, err)
	v, err := ModuleVersions()
	require.NoError(t, err)
	build := func(name string, done bool, age time.Duration) string {
		dir := filepath.Join(BuildsDir(cache), name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		if done {
			p := filepath.Join(dir, complete)
			require.NoError(t, os.WriteFile(p, nil, 0o644))
			when := time.Now().Add(-age)
			require.NoError(t, os.Chtimes(p, when, when))
		}
		return dir
	}
	build(".build-123", true, 0)
	build("kube-v1.0.0_etcd-v3_kwok-v0_aaaaaaaaaaaa", true, 0)
	build("kube-"+v.Kubernetes+"_interrupted", false, 0)
	assert.Empty(t, Find(cache))
	build("kube-"+v.Kubernetes+"_older", true, 2*time.Hour)
	newer := build("kube-"+v.Kubernetes+"_newer", true, time.Hour)
	assert.Equal(t, newer, Find(cache))
	exact := build(key, true, 3*time.Hour)
	assert.Equal(t, exact, Find(cache))
}

// TestBuildReturnsExisting: with the build of this key in the cache, Build returns it
// without running anything (no go command on PATH).
func TestBuildReturnsExisting(t *testing.T) {
	cache := t.TempDir()
	key, err := Key()
	require.NoError(t, err)
	dest := filepath.Join(BuildsDir(cache), key)
	require.NoError(t, os.MkdirAll(dest, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dest, complete), nil, 0o644))
	t.Setenv("PATH", "")
	var log bytes.Buffer
	dir, err := Build(context.Background(), cache, &log)
	require.NoError(t, err)
	assert.Equal(t, dest, dir)
	assert.Empty(t, log.String())

	// Without it, the missing go command is the error, and nothing is left behind.
	require.NoError(t, os.RemoveAll(dest))
	_, err = Build(context.Background(), cache, &log)
	assert.ErrorContains(t, err, "the go command")
	entries, _ := os.ReadDir(BuildsDir(cache))
	assert.Empty(t, entries)
}

// TestInstall: a finished build goes into place; another complete build of the same
// key that got there first wins; an interrupted one is replaced.
func TestInstall(t *testing.T) {
	dir := t.TempDir()
	bin := func(content string) string {
		p, err := os.MkdirTemp(dir, "bin")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(p, complete), []byte(content), 0o644))
		return p
	}
	dest := filepath.Join(dir, "dest")
	require.NoError(t, install(bin("first"), dest))
	require.NoError(t, install(bin("second"), dest))
	got, _ := os.ReadFile(filepath.Join(dest, complete))
	assert.Equal(t, "first", string(got))

	require.NoError(t, os.Remove(filepath.Join(dest, complete))) // interrupted
	require.NoError(t, install(bin("third"), dest))
	got, _ = os.ReadFile(filepath.Join(dest, complete))
	assert.Equal(t, "third", string(got))
}
