package isolate_test

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"
	"time"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/isolate"
)

// The program's main calls isolate.Child first (this test binary's TestMain
// does). A render.Cache in front serves a render already made without starting
// a child.
func Example() {
	artifact := fstest.MapFS{
		"app/kustomization.yaml": {Data: []byte("namespace: prod\nresources: [cm.yaml]\n")},
		"app/cm.yaml":            {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n")},
		"chart/Chart.yaml":       {Data: []byte("apiVersion: v2\nname: spin\nversion: 1.0.0\n")},
		"chart/templates/x.yaml": {Data: []byte("{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n")},
	}
	r := render.NewCache(isolate.New(isolate.Options{
		Spec:   isolate.Spec{Kustomize: &isolate.KustomizeSpec{}, Helm: &isolate.HelmSpec{}},
		Limits: isolate.Limits{Memory: 512 << 20, CPU: 10 * time.Second},
	}), 0)
	ctx := context.Background()
	res, err := r.Render(ctx, render.Input{FS: artifact, Dir: "app", Digest: "sha256:1"}, render.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Manifests {
		fmt.Println(res.Renderer, m.Origin, object.IDOf(m.Object))
	}
	// This chart would run for hours: the child is killed at the deadline.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = r.Render(ctx, render.Input{FS: artifact, Dir: "chart", Digest: "sha256:1"}, render.Options{})
	var le *isolate.LimitError
	fmt.Println(errors.As(err, &le), le.Limit, errors.Is(err, render.ErrLimit), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// kustomize app/cm.yaml /ConfigMap/prod/web
	// true wall true true
}
