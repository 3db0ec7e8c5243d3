package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/clustertest/internal/controlplane"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

const modulePath = "github.com/gitopskit/gitopskit"

// TestModuleZip builds gitopskit's module zip as the go command and the module proxy
// do, and checks that a user who downloads it gets the setup command and everything it
// needs: its packages, the embedded builder module, and only standard-library
// imports besides, so `go run` of it needs nothing in the user's go.sum but gitopskit.
func TestModuleZip(t *testing.T) {
	root := repoRoot(t)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	mf, err := modfile.Parse("go.mod", gomod, nil)
	require.NoError(t, err)
	assert.Empty(t, mf.Replace, "`go run %s@version` refuses a module with replace directives", modulePath)
	assert.Empty(t, mf.Exclude, "`go run %s@version` refuses a module with exclude directives", modulePath)

	mv, zipFile := moduleZip(t, root)
	unzipped := filepath.Join(t.TempDir(), "gitopskit")
	require.NoError(t, modzip.Unzip(unzipped, mv, zipFile))

	// Every file of the command and of the package that builds the binaries.
	for _, dir := range []string{"clustertest/setup", "clustertest/internal/controlplane"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			assert.FileExists(t, filepath.Join(unzipped, rel), "%s is not in the module zip", rel)
			return nil
		})
		require.NoError(t, err)
	}
	for _, f := range []string{"go.mod.txt", "go.sum.txt", "cmd/kube-apiserver/main.go"} {
		assert.FileExists(t, filepath.Join(unzipped, "clustertest/internal/controlplane/_module", f))
	}

	// What the go command loads from the zip: the packages resolve, the embed
	// pattern matches, and nothing outside the standard library and gitopskit is
	// imported.
	out := goCmd(t, unzipped, offlineEnv("GOFLAGS=-mod=readonly"), "list", "-e", "-deps",
		"-f", "{{.ImportPath}} std={{.Standard}} err={{.Error}} embed={{.EmbedFiles}}", "./clustertest/setup")
	var embedded string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		assert.Contains(t, line, " err=<nil> ", line)
		if !strings.Contains(line, " std=true ") {
			assert.True(t, strings.HasPrefix(line, modulePath+"/"), "setup imports %s", line)
		}
		if strings.HasPrefix(line, modulePath+"/clustertest/internal/controlplane ") {
			embedded = line
		}
	}
	assert.Contains(t, embedded, "_module/go.mod.txt")
	assert.Contains(t, embedded, "_module/cmd/kubectl/main.go")
}

// TestRunAtVersion serves the module zip from a module proxy on disk and runs the
// setup command the way a user does outside any module,
// `go run github.com/gitopskit/gitopskit/clustertest/setup@version`, which the go
// command refuses for a module with replace directives. With -module it builds
// nothing but itself. The other modules come from the module cache, offline.
func TestRunAtVersion(t *testing.T) {
	root := repoRoot(t)
	mv, zipFile := moduleZip(t, root)
	proxy := t.TempDir()
	at := filepath.Join(proxy, modulePath, "@v")
	require.NoError(t, os.MkdirAll(at, 0o755))
	require.NoError(t, copyFile(zipFile, filepath.Join(at, mv.Version+".zip")))
	require.NoError(t, copyFile(filepath.Join(root, "go.mod"), filepath.Join(at, mv.Version+".mod")))
	require.NoError(t, os.WriteFile(filepath.Join(at, mv.Version+".info"), []byte(`{"Version":"`+mv.Version+`"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(at, "list"), []byte(mv.Version+"\n"), 0o644))
	modcache := strings.TrimSpace(goCmd(t, root, os.Environ(), "env", "GOMODCACHE"))

	// A module cache of its own, so the made-up version stays out of the real one.
	env := append(offlineEnv("GOFLAGS=-modcacherw", "GOSUMDB=off", "GOMODCACHE="+t.TempDir()),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(modcache, "cache", "download")))
	out := filepath.Join(t.TempDir(), "builder")
	setup := strings.Fields(controlplane.SetupCommand)
	goCmd(t, t.TempDir(), env, append(setup[1:len(setup)-1], setup[len(setup)-1]+"@"+mv.Version, "-module", out)...)
	assert.FileExists(t, filepath.Join(out, "go.mod"))
	assert.FileExists(t, filepath.Join(out, "cmd", "kube-apiserver", "main.go"))
}

// moduleZip builds gitopskit's module zip as the go command and the module proxy do:
// from Git's HEAD when root is a plain clone, else (a worktree, an export) from the
// directory.
func moduleZip(t *testing.T, root string) (module.Version, string) {
	t.Helper()
	mv := module.Version{Path: modulePath, Version: "v0.0.1"}
	var buf bytes.Buffer
	err := modzip.CreateFromVCS(&buf, mv, root, "HEAD", "")
	if vcsErr := (*modzip.UnrecognizedVCSError)(nil); errors.As(err, &vcsErr) {
		t.Logf("%s is not a plain Git clone: zipping the directory", root)
		buf.Reset()
		err = modzip.CreateFromDir(&buf, mv, root)
	}
	require.NoError(t, err)
	zipFile := filepath.Join(t.TempDir(), "module.zip")
	require.NoError(t, os.WriteFile(zipFile, buf.Bytes(), 0o600))
	return mv, zipFile
}

// TestScratchModule is a user's module outside the repository that requires
// gitopskit through a replace directive only: the command ErrBinariesMissing names
// finds the existing build and returns at once, a test there starts clustertest and
// creates a ConfigMap, and a failing test there gets the control plane's logs. It
// works offline, from the module cache, and needs the binaries built (hack/test.sh
// builds them first).
func TestScratchModule(t *testing.T) {
	root := repoRoot(t)
	key, err := controlplane.Key()
	require.NoError(t, err)
	cache := controlplane.CacheDir()
	want := filepath.Join(controlplane.BuildsDir(cache), key)
	if controlplane.Find(cache) != want {
		testtool.Missing(t, "the control plane is not built in "+want+": run `go run ./clustertest/setup`")
	}

	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	mf, err := modfile.Parse("go.mod", gomod, nil)
	require.NoError(t, err)
	scratch := t.TempDir()
	var b strings.Builder
	b.WriteString("module example.com/scratch\n\ngo " + mf.Go.Version + "\n\nrequire (\n\t" + modulePath + " v0.0.0\n")
	// What a user who writes the test below has: gitopskit and client-go.
	for _, r := range mf.Require {
		switch r.Mod.Path {
		case "k8s.io/api", "k8s.io/apimachinery", "k8s.io/client-go":
			b.WriteString("\t" + r.Mod.Path + " " + r.Mod.Version + "\n")
		}
	}
	b.WriteString(")\n\nreplace " + modulePath + " => " + root + "\n")
	require.NoError(t, os.WriteFile(filepath.Join(scratch, "go.mod"), []byte(b.String()), 0o644))
	require.NoError(t, copyFile(filepath.Join(root, "go.sum"), filepath.Join(scratch, "go.sum")))
	require.NoError(t, copyFile("testdata/scratch/scratch_test.go", filepath.Join(scratch, "scratch_test.go")))

	// -mod=mod completes the module's requirements from gitopskit's; GOPROXY=off and
	// GOSUMDB=off keep everything to the module cache.
	env := offlineEnv("GOFLAGS=-mod=mod", "GOSUMDB=off", "CI=true")
	setup := strings.Fields(controlplane.SetupCommand)
	require.Equal(t, "go", setup[0])
	dir := goCmd(t, scratch, env, setup[1:]...)
	assert.Equal(t, want, strings.TrimSpace(dir))

	out := goCmd(t, scratch, env, "test", "-count=1", "-v", "-run", "TestConfigMap", ".")
	assert.Contains(t, out, "--- PASS: TestConfigMap")

	cmd := exec.Command("go", "test", "-count=1", "-run", "TestFails", ".")
	cmd.Dir, cmd.Env = scratch, append(env, "SCRATCH_FAIL=true")
	failed, err := cmd.CombinedOutput()
	require.Error(t, err, "the test fails on purpose:\n%s", failed)
	assert.Contains(t, string(failed), "failing on purpose")
	assert.Contains(t, string(failed), "clustertest: kube-apiserver ")
	assert.Contains(t, string(failed), "clustertest: etcd ")
}

// offlineEnv is the environment without what points clustertest or the go command
// elsewhere, with extra added and the module proxy off.
func offlineEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "GITOPSKIT_CONTROLPLANE_DIR", "GITOPSKIT_USE_EXISTING_CLUSTER", "KUBECONFIG", "GOFLAGS", "GOWORK", "GOPROXY", "CI":
			continue
		}
		env = append(env, kv)
	}
	return append(env, append([]string{"GOPROXY=off", "GOWORK=off"}, extra...)...)
}

// goCmd runs the go command in dir and returns its standard output.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stderr = dir, env, &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go %s in %s:\n%s%s", strings.Join(args, " "), dir, out, stderr.String())
	return string(out)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Equal(t, modulePath, modfile.ModulePath(data))
	return root
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
