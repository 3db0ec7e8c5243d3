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
