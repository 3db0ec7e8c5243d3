package snippets

import (
	"context"
	"fmt"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/helm/helm4"
	"github.com/gitopskit/gitopskit/render/kustomize"
	"github.com/go-logr/logr"
)

func Example_renderAuto() {
	// snippet: render-auto
	// An artifact: in a program, the FS of a source.Artifact.
	artifact := fstest.MapFS{
		"base/kustomization.yaml": {Data: []byte("resources: [service.yaml]\n")},
		"base/service.yaml":       {Data: []byte("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n")},
		"prod/kustomization.yaml": {Data: []byte("namespace: prod\nresources: [../base]\n")},
		"chart/Chart.yaml":        {Data: []byte("apiVersion: v2\nname: web\nversion: 1.0.0\n")},
		"chart/values.yaml":       {Data: []byte("replicas: 1\n")},
		"chart/templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {replicas: \"{{ .Values.replicas }}\"}\n")},
		"plain/app.yaml":          {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n")},
	}
	renderer := render.Auto{
		Kustomize: kustomize.New(kustomize.Options{}), // no exec plugins, no remote bases
		Helm:      helm.New(helm.Options{}),           // client-only, `lookup` finds nothing
	}
	for _, dir := range []string{"prod", "chart", "plain"} {
		res, err := renderer.Render(context.Background(),
			render.Input{FS: artifact, Dir: dir},
			render.Options{Helm: render.HelmOptions{ReleaseName: "shop", Set: []string{"replicas=3"}}})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, m := range res.Manifests {
			fmt.Println(res.Renderer, m.Origin, object.IDOf(m.Object))
		}
	}
	// end snippet

	// Output:
	// kustomize base/service.yaml /Service/prod/web
	// helm web/templates/cm.yaml:1 /ConfigMap//shop
	// plain plain/app.yaml:1 /ConfigMap//app
}

func Example_renderTransform() {
	artifact := fstest.MapFS{"app/cm.yaml": {Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data:
  url: https://${HOST:=shop.example.com}/${ENV}
`)}}
	res, err := render.Plain{}.Render(context.Background(), render.Input{FS: artifact, Dir: "app"}, render.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// snippet: render-transform
	// In a program, the mapper comes from the cluster (restmapper); here it is static.
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)

	t := render.Transform{
		Vars:      map[string]string{"ENV": "prod"}, // ${VAR}, ${VAR:=default}, $${escaped}
		Strict:    true,                             // an unset variable without default is an error
		Namespace: "shop",                           // for namespaced objects that declare none
		Mapper:    mapper,
		Labels:    map[string]string{"app.kubernetes.io/part-of": "shop"},
	}
	if err := t.Apply(res); err != nil {
		fmt.Println(err)
		return
	}
	u := res.Manifests[0].Object
	fmt.Println(object.IDOf(u), u.GetLabels(), u.Object["data"])
	// end snippet

	// Output:
	// /ConfigMap/shop/web map[app.kubernetes.io/part-of:shop] map[url:https://shop.example.com/prod]
}

// Helm4Renderer is render.Auto with the Helm 4 engine.
func Helm4Renderer(logger logr.Logger) render.Renderer {
	// snippet: render-helm4
	renderer := render.Auto{Helm: helm.New(helm.Options{Engine: helm4.New(logger)})}
	// end snippet
	return renderer
}
