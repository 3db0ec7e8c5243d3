package kustomize_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

func Example() {
	artifact := fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources:\n  - service.yaml\n")},
		"base/service.yaml":       {Data: []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n")},
		"prod/kustomization.yaml": {Data: []byte(`namespace: prod
namePrefix: prod-
resources:
  - ../base
configMapGenerator:
  - name: settings
    literals: [MODE=fast]
`)},
	}
	r := render.Auto{Kustomize: kustomize.New(kustomize.Options{})}
	res, err := r.Render(context.Background(), render.Input{FS: artifact, Dir: "prod"}, render.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Manifests {
		fmt.Println(m.Origin, object.IDOf(m.Object))
	}
	// Output:
	// prod/kustomization.yaml /ConfigMap/prod/prod-settings-7kcm455446
	// base/service.yaml /Service/prod/prod-web
}
