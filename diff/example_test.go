package diff_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
)

// noSchemas has no schema for any kind, so the offline engine types objects by
// deduction, which is exact for a ConfigMap.
type noSchemas struct{}

func (noSchemas) TypeConverter(context.Context, schema.GroupVersionKind) (managedfields.TypeConverter, error) {
	return nil, diff.ErrNoSchema
}

func mustObject(s string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
		panic(err)
	}
	return u
}

// An offline diff of one object: the desired ConfigMap changes "color" and stops
// declaring "size", which our manager owned at its last apply, so the apply would
// remove it. "owner", set by another manager, stays.
func ExampleDiffer_Plan() {
	live := mustObject(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  resourceVersion: "42"
  managedFields:
  - manager: deployer
    operation: Apply
    apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1: {"f:data": {"f:color": {}, "f:size": {}}}
  - manager: kubectl-edit
    operation: Update
    apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1: {"f:data": {"f:owner": {}}}
data: {color: blue, size: large, owner: team-a}
`)
	desired := mustObject(`
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: green}
`)
	d, err := diff.New(diff.NewOffline(noSchemas{}, diff.OfflineOptions{}), diff.Options{FieldManager: "deployer"})
	if err != nil {
		panic(err)
	}
	plan, err := d.Plan(context.Background(), diff.Input{
		Desired: []*unstructured.Unstructured{desired},
		Live:    []*unstructured.Unstructured{live},
	})
	if err != nil {
		panic(err)
	}
	c := plan.Changes[0]
	fmt.Println(c.ID, c.Action, c.Paths, "foreign:", c.Foreign)
	if err := plan.WriteText(os.Stdout, diff.TextOptions{}); err != nil {
		panic(err)
	}
	// Output:
	// /ConfigMap/shop/settings Update [.data.color .data.size] foreign: [.data.owner]
	// --- live//ConfigMap/shop/settings
	// +++ predicted//ConfigMap/shop/settings
	// @@ -1,8 +1,7 @@
	//  apiVersion: v1
	//  data:
	// -  color: blue
	// +  color: green
	//    owner: team-a
	// -  size: large
	//  kind: ConfigMap
	//  metadata:
	//    name: settings
}

// A conflict: without Force, declaring a field another manager owns with a
// different value is reported, as the API server would.
func ExampleDiffer_Diff_conflict() {
	live := mustObject(`
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  managedFields:
  - {manager: deployer, operation: Apply, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:data": {"f:color": {}}}}
  - {manager: other, operation: Apply, apiVersion: v1, fieldsType: FieldsV1, fieldsV1: {"f:data": {"f:size": {}}}}
data: {color: blue, size: large}
`)
	desired := mustObject(`{apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: shop}, data: {color: blue, size: small}}`)
	d, _ := diff.New(diff.NewOffline(noSchemas{}, diff.OfflineOptions{}), diff.Options{FieldManager: "deployer"})
	_, err := d.Diff(context.Background(), desired, live)
	var ce *apply.ConflictError
	fmt.Println(errors.As(err, &ce), ce.Conflicts)
	// Output:
	// true [{.data.size other}]
}
