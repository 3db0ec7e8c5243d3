package main

import (
	"os"
	"os/exec"
	"testing"
)

// requireGit stops the test when git is not on PATH: see missing.
func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		missing(t, "git is not on PATH")
	}
}

// missing reports a missing prerequisite as the library's own tests do: a failure
// in CI (CI=true), so CI never passes by skipping, and a skip elsewhere.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("missing prerequisite in CI: " + why)
	}
	t.Skip("missing prerequisite: " + why)
}
