package apply

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func yamlObj(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// live is a Deployment as the API server returns it after an apply of desired by
// "gitopskit": defaulted fields, and managedFields keyed the server's way.
const liveDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ns
  labels: {app: web}
  managedFields:
  - manager: gitopskit
    operation: Apply
    apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata: {f:labels: {f:app: {}}}
      f:spec:
        f:selector: {}
        f:template:
          f:metadata: {f:labels: {f:app: {}}}
          f:spec:
            f:containers:
              'k:{"name":"web"}':
                .: {}
                f:args: {}
                f:image: {}
                f:name: {}
                f:ports:
                  'k:{"containerPort":8080,"protocol":"TCP"}': {.: {}, f:containerPort: {}}
                f:resources: {}
  - manager: kube-controller-manager
    operation: Update
    apiVersion: apps/v1
    subresource: status
    fieldsType: FieldsV1
    fieldsV1: {f:status: {f:replicas: {}}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1
        args: [a, b]
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 8080, protocol: TCP}]
        resources: {}
      restartPolicy: Always
status: {replicas: 1}
`

const desiredDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web}, creationTimestamp: null}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1
        args: [a, b]
        ports: [{containerPort: 8080}]
        resources: {}
`

func TestUnchanged(t *testing.T) {
	live := yamlObj(t, liveDeployment)
	for name, tc := range map[string]struct {
		edit func(d *unstructured.Unstructured)
		want bool
	}{
		"same":          {func(*unstructured.Unstructured) {}, true},
		"changed value": {func(d *unstructured.Unstructured) { d.SetLabels(map[string]string{"app": "api"}) }, false},
		"dropped field": {func(d *unstructured.Unstructured) { d.SetLabels(nil) }, false},
		"field set by another": {func(d *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(d.Object, int64(1), "spec", "replicas")
		}, false},
		"new field":           {func(d *unstructured.Unstructured) { _ = unstructured.SetNestedField(d.Object, "x", "spec", "paused") }, false},
		"atomic list changed": {func(d *unstructured.Unstructured) { setContainer(d, "args", []any{"a"}) }, false},
		"defaulted key omitted": {func(d *unstructured.Unstructured) {
			setContainer(d, "ports", []any{map[string]any{"containerPort": 8080.0}})
		}, true},
		"other API version": {func(d *unstructured.Unstructured) { d.SetAPIVersion("apps/v1beta2") }, false},
		"second item":       {func(d *unstructured.Unstructured) { addContainer(d) }, false},
	} {
		t.Run(name, func(t *testing.T) {
			d := yamlObj(t, desiredDeployment)
			tc.edit(d)
			assert.Equal(t, tc.want, unchanged(d, live, "gitopskit"))
		})
	}
	assert.False(t, unchanged(yamlObj(t, desiredDeployment), live, "someone-else"), "another manager's entry does not count")
	// An object without labels or annotations: its metadata holds only its
	// identity, which managedFields never record.
	bare := live.DeepCopy()
	bare.SetLabels(nil)
	mf := bare.GetManagedFields()
	mf[0].FieldsV1.SetRawString(strings.Replace(mf[0].FieldsV1.GetRawString(), `"f:metadata":{"f:labels":{"f:app":{}}},`, "", 1))
	bare.SetManagedFields(mf)
	unlabelled := yamlObj(t, desiredDeployment)
	unlabelled.SetLabels(nil)
	assert.True(t, unchanged(unlabelled, bare, "gitopskit"), "%s", mf[0].FieldsV1.GetRawString())
	noFields := live.DeepCopy()
	noFields.SetManagedFields([]metav1.ManagedFieldsEntry{})
	assert.False(t, unchanged(yamlObj(t, desiredDeployment), noFields, "gitopskit"))
}

func setContainer(d *unstructured.Unstructured, field string, v any) {
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	cs[0].(map[string]any)[field] = v
	_ = unstructured.SetNestedSlice(d.Object, cs, "spec", "template", "spec", "containers")
}

func addContainer(d *unstructured.Unstructured) {
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	cs = append(cs, map[string]any{"name": "sidecar", "image": "x"})
	_ = unstructured.SetNestedSlice(d.Object, cs, "spec", "template", "spec", "containers")
}
