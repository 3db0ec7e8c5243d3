package helm_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
)

func Example() {
	artifact := fstest.MapFS{
		"charts/web/Chart.yaml":  {Data: []byte("apiVersion: v2\nname: web\nversion: 1.0.0\n")},
		"charts/web/values.yaml": {Data: []byte("replicas: 1\n")},
		"charts/web/templates/deploy.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: {{ .Values.replicas }}
`)},
		"charts/web/templates/hook.yaml": {Data: []byte(`apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install
`)},
		"env/prod.yaml": {Data: []byte("replicas: 2\n")},
	}
	r := render.Auto{Helm: helm.New(helm.Options{})}
	res, err := r.Render(context.Background(), render.Input{FS: artifact, Dir: "charts/web"}, render.Options{
		Helm: render.HelmOptions{
			ReleaseName: "shop",
			Namespace:   "prod",
			ValuesFiles: []string{"env/prod.yaml"},
			Set:         []string{"replicas=3"},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Manifests {
		replicas, _, _ := unstructured.NestedInt64(m.Object.Object, "spec", "replicas")
		fmt.Println(m.Origin, object.IDOf(m.Object), replicas, m.Object.GetAnnotations())
	}
	// Output:
	// web/templates/deploy.yaml:1 apps/Deployment/prod/shop 3 map[]
	// web/templates/hook.yaml:1 batch/Job//shop-migrate 0 map[helm.sh/hook:pre-install]
}
