package apply_test

import (
	"fmt"
	"strings"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
)

// Order shows the batches an apply goes through, without a cluster: stages by kind,
// then waves, then dependencies.
func ExampleOrder() {
	manifests := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
  annotations: {argocd.argoproj.io/sync-wave: "-1"}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: shop
  annotations: {gitopskit.io/depends-on: apps/Deployment/shop/web}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`
	ms, err := object.Decode(strings.NewReader(manifests), "app.yaml")
	if err != nil {
		panic(err)
	}
	batches, err := apply.Order(object.Objects(ms))
	if err != nil {
		panic(err)
	}
	for i, b := range batches {
		for _, o := range b.Objects {
			fmt.Printf("%d %-17s wave %2d  %s\n", i, b.Stage, b.Wave, object.IDOf(o))
		}
	}
	// Output:
	// 0 namespaces        wave  0  /Namespace//shop
	// 1 crds              wave  0  apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com
	// 2 namespaced-config wave  0  /ConfigMap/shop/settings
	// 3 workloads         wave -1  batch/Job/shop/migrate
	// 4 workloads         wave  0  apps/Deployment/shop/web
	// 5 workloads         wave  0  example.com/Widget/shop/gear
}
