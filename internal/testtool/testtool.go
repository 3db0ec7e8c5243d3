// Package testtool finds the external programs tests run (git, kustomize, helm,
// kubectl) and decides what a missing one means: a skip on a developer's machine, a
// failure in CI (CI=true), so CI never passes by skipping.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Require returns the path of the program name on PATH. When it is missing, the test
// fails if the environment variable CI is "true" and is skipped otherwise, with a
// message saying how to get it (`make test` builds the Go tools into the cache).
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" is not on PATH; `make test` installs the tools the tests need")
	return ""
}

// Missing reports a missing prerequisite: t.Fatal in CI (CI=true), t.Skip elsewhere.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("missing prerequisite in CI: " + why)
	}
	t.Skip("missing prerequisite: " + why)
}

// WriteFiles writes files (slash-separated paths relative to dir, and their
// contents) into dir, creating directories as needed.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
