package kustomize_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// TestWarningsNotPrinted: kustomize prints deprecation warnings to os.Stderr and
// unused vars with the standard logger; a render returns them as warnings, naming
// the kustomization, logs them, and prints nothing.
func TestWarningsNotPrinted(t *testing.T) {
	const root = "testdata/deprecated"
	want := rendertest.CLI(t, filepath.Join(root, "app"), "kustomize", "build", ".")
	var logged []string
	r := kustomize.New(kustomize.Options{Logger: funcr.New(func(_, args string) { logged = append(logged, args) }, funcr.Options{Verbosity: 1})})
	var (
		res *render.Result
		err error
	)
	printed := rendertest.Printed(t, func() { res, err = build(t, r, root, "app") })
	if err != nil {
		t.Fatal(err)
	}
	if printed != "" {
		t.Errorf("the render printed:\n%s", printed)
	}
	rendertest.Equal(t, want, object.Objects(res.Manifests))
	for _, w := range []string{
		"app/kustomization.yaml: 'bases' is deprecated. Please use 'resources' instead.",
		"app/kustomization.yaml: 'commonLabels' is deprecated.",
		"base/kustomization.yaml: 'vars' is deprecated.",
		"kustomize: well-defined vars that were never replaced: UNUSED",
	} {
		if !slices.ContainsFunc(res.Warnings, func(s string) bool { return strings.HasPrefix(s, w) }) {
			t.Errorf("no warning %q in %q", w, res.Warnings)
		}
		if !slices.ContainsFunc(logged, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("warning %q not logged: %q", w, logged)
		}
	}
	if len(res.Warnings) != 4 {
		t.Errorf("%d warnings, want 4: %q", len(res.Warnings), res.Warnings)
	}
}
