package object_test

import (
	"fmt"
	"strings"

	"github.com/gitopskit/gitopskit/object"
)

func ExampleDecode() {
	manifests, err := object.Decode(strings.NewReader(`apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
`), "shop.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range manifests {
		fmt.Println(m.Origin, object.IDOf(m.Object))
	}

	_, err = object.Decode(strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"), "bad.yaml")
	fmt.Println(err)
	// Output:
	// shop.yaml:1 /Namespace//shop
	// shop.yaml:6 apps/Deployment/shop/web
	// bad.yaml:1: invalid object: ConfigMap has no metadata.name or metadata.generateName
}

// A chart's rendered output, read as Helm reads it: the last of two keys wins, an
// unquoted label value is kept as written, a document that declares nothing is
// skipped, and a hook named by generateName is an object.
func ExampleDecoder_lenient() {
	out := `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    version: 1.10
data:
  mode: fast
  mode: safe
---
settings: {retention: 10d}
---
apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
`
	manifests, err := object.Decoder{Lenient: true}.Decode(strings.NewReader(out), "chart/templates/all.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range manifests {
		u := m.Object
		fmt.Println(m.Origin, u.GetKind(), u.GetName()+u.GetGenerateName(), u.GetLabels(), u.Object["data"])
	}

	_, err = object.Decode(strings.NewReader(out), "deploy/all.yaml")
	fmt.Println(err)
	// Output:
	// chart/templates/all.yaml:1 ConfigMap settings map[version:1.10] map[mode:safe]
	// chart/templates/all.yaml:13 Job migrate- map[] <nil>
	// deploy/all.yaml:9: invalid object: invalid YAML: key "mode" already set in map
}
