package render_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

func Example() {
	// An artifact: in a program, root.FS() of an *os.Root opened on its directory.
	artifact := fstest.MapFS{
		"apps/web/config.yaml": {Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: web
data:
  url: https://${HOST:=shop.example.com}/
`)},
		"apps/web/namespace.yaml": {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n")},
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)

	// Auto renders kustomizations and charts too when given render/kustomize and
	// render/helm renderers; the cache skips renders of an unchanged artifact.
	r := render.NewCache(render.Auto{}, 0)
	res, err := r.Render(context.Background(), render.Input{FS: artifact, Dir: "apps/web", Digest: "sha256:1234"}, render.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = render.Transform{
		Vars:      map[string]string{},
		Strict:    true,
		Namespace: "web",
		Mapper:    mapper,
		Labels:    map[string]string{"app.kubernetes.io/part-of": "shop"},
	}.Apply(res)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range res.Manifests {
		fmt.Println(m.Origin, object.IDOf(m.Object), m.Object.GetLabels())
	}
	fmt.Println(res.Manifests[0].Object.Object["data"])
	// Output:
	// apps/web/config.yaml:1 /ConfigMap/web/web map[app.kubernetes.io/part-of:shop]
	// apps/web/namespace.yaml:1 /Namespace//web map[app.kubernetes.io/part-of:shop]
	// map[url:https://shop.example.com/]
}
