package helm_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/go-logr/logr/funcr"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

// TestWarningsNotPrinted: the Helm SDK prints what it cannot merge, and more, with
// the standard logger; a render returns those lines as warnings, logs them, and
// prints nothing, also when renders run concurrently.
func TestWarningsNotPrinted(t *testing.T) {
	fsys := fstest.MapFS{
		"c/Chart.yaml":  {Data: []byte("apiVersion: v2\nname: c\nversion: 0.1.0\ndeprecated: true\n")},
		"c/values.yaml": {Data: []byte("config: plain\n")},
		// Dependencies belong in Chart.yaml since v2: Helm reads this one and says so.
		"c/requirements.yaml":  {Data: []byte("dependencies: []\n")},
		"c/templates/cm.yaml":  {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {r: {{ .Values.config | quote }}}\n")},
		"c/templates/cm2.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\n")},
	}
	var (
		mu     sync.Mutex
		logged []string
	)
	r := helm.New(helm.Options{Logger: funcr.New(func(_, args string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, args)
	}, funcr.Options{Verbosity: 1})})
	// A table where the chart has a string: `helm template` prints a warning.
	opts := render.Options{Helm: render.HelmOptions{Values: map[string]any{"config": map[string]any{"a": 1}}}}
	want := []string{
		"chart c is deprecated",
		`Warning: Dependencies are handled in Chart.yaml since apiVersion "v2". We recommend migrating dependencies to Chart.yaml.`,
		"warning: skipped value for c.config: Not a table.",
	}
	printed := rendertest.Printed(t, func() {
		res, err := r.Render(context.Background(), render.Input{FS: fsys, Dir: "c"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Warnings, want) {
			t.Errorf("warnings:\n%q\nwant\n%q", res.Warnings, want)
		}
		// Concurrent renders each get their own warnings, and only those.
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				res, err := r.Render(context.Background(), render.Input{FS: fsys, Dir: "c"}, opts)
				if err == nil && !slices.Equal(res.Warnings, want) {
					t.Errorf("concurrent render: warnings %q", res.Warnings)
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
	if printed != "" {
		t.Errorf("the render printed:\n%s", printed)
	}
	if !slices.ContainsFunc(logged, func(s string) bool { return strings.Contains(s, "skipped value for c.config") }) {
		t.Errorf("warning not logged: %q", logged)
	}
}
