package kustomize_test

import (
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// TestOpenAPISchemaDoesNotLeak renders a kustomization with its own OpenAPI schema
// and one without, one after the other and concurrently, in one process: each
// must equal what `kustomize build` prints in a fresh process. kyaml keeps the
// schema in a process-wide variable; a custom schema left behind makes strategic
// merge replace lists it should merge (the Deployment's env and volumes).
func TestOpenAPISchemaDoesNotLeak(t *testing.T) {
	const root = "testdata/openapi"
	want := map[string][]*unstructured.Unstructured{}
	for _, dir := range []string{"custom", "app"} {
		want[dir] = rendertest.CLI(t, filepath.Join(root, dir), "kustomize", "build", ".")
	}
	r := kustomize.New(kustomize.Options{})
	check := func(dir string) {
		res, err := build(t, r, root, dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			return
		}
		rendertest.Equal(t, want[dir], object.Objects(res.Manifests))
	}
	for _, dir := range []string{"custom", "app", "custom", "custom", "app"} {
		check(dir)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { check([]string{"custom", "app"}[i%2]) })
	}
	wg.Wait()
}

// TestOpenAPISchemaInvalid: kyaml panics on a schema it cannot parse (so does
// `kustomize build`); the render returns an error naming the schema file instead,
// and the next render sees the default schema.
func TestOpenAPISchemaInvalid(t *testing.T) {
	const root = "testdata/openapi"
	r := kustomize.New(kustomize.Options{})
	_, err := build(t, r, root, "invalid")
	rendertest.WantError(t, err, nil, "openapi schema invalid/schema.json: invalid schema file")
	res, err := build(t, r, root, "app")
	if err != nil {
		t.Fatal(err)
	}
	rendertest.Equal(t, rendertest.CLI(t, filepath.Join(root, "app"), "kustomize", "build", "."), object.Objects(res.Manifests))
}
