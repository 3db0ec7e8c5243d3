package helm4_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/helm/helm4"
)

// A renderer that renders charts with Helm 4 instead of Helm 3: everything
// else, from values files to hooks, is the same.
func Example() {
	artifact := fstest.MapFS{
		"web/Chart.yaml": {Data: []byte("apiVersion: v2\nname: web\nversion: 1.0.0\n")},
		"web/templates/cm.yaml": {Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  helm: {{ .Capabilities.HelmVersion.Version | trunc 2 }}
  kubernetes: {{ .Capabilities.KubeVersion.Version }}
`)},
	}
	r := render.Auto{Helm: helm.New(helm.Options{Engine: helm4.New(logr.Discard())})}
	res, err := r.Render(context.Background(), render.Input{FS: artifact, Dir: "web"}, render.Options{
		Helm: render.HelmOptions{ReleaseName: "shop", KubeVersion: "v1.36.2-gke.100"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Manifests {
		fmt.Println(m.Origin, m.Object.GetName(), m.Object.Object["data"])
	}
	// Output:
	// web/templates/cm.yaml:1 shop map[helm:v4 kubernetes:v1.36.2-gke.100]
}
