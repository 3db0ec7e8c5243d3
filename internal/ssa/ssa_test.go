package ssa

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/object"
)

func mustYAML(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(s), &u.Object))
	return u
}

// afterApply is a ConfigMap as a dry-run apply of {data: {a: "3"}, labels: {keep}} by
// gitopskit leaves it, over one that kubectl's client-side apply created with a, b
// and a label, and where another manager owns c.
const afterApply = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: old
  labels: {keep: "1", drop: "2"}
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1:
      f:data: {.: {}, f:b: {}}
      f:metadata:
        f:annotations: {.: {}, f:kubectl.kubernetes.io/last-applied-configuration: {}}
        f:labels: {.: {}, f:keep: {}, f:drop: {}}
  - manager: gitopskit
    operation: Apply
    apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1: {f:data: {f:a: {}}, f:metadata: {f:labels: {f:keep: {}}}}
  - manager: other
    operation: Update
    apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1: {f:data: {f:c: {}}}
  - manager: kubectl
    operation: Update
    apiVersion: v1
    subresource: status
    fieldsType: FieldsV1
    fieldsV1: {f:data: {f:z: {}}}
data: {a: "3", b: "2", c: "3"}
`

func TestReleased(t *testing.T) {
	out := mustYAML(t, afterApply)
	gone, err := released(out, CSASet(nil))
	require.NoError(t, err)
	var paths []string
	gone.Iterate(func(p fieldpath.Path) { paths = append(paths, p.String()) })
	assert.ElementsMatch(t, []string{
		".data.b", ".metadata.annotations",
		".metadata.annotations.kubectl.kubernetes.io/last-applied-configuration", ".metadata.labels.drop",
	}, paths, "data and labels stay: others own fields below them")

	gone, err = released(out, CSASet([]string{}))
	require.NoError(t, err)
	assert.True(t, gone.Empty(), "no client-side apply manager, nothing moves")

	obj := out.DeepCopy()
	gone, _ = released(out, CSASet(nil))
	gone.Iterate(func(p fieldpath.Path) { obj.Object = removePath(obj.Object, p).(map[string]any) })
	assert.Equal(t, map[string]any{"a": "3", "c": "3"}, obj.Object["data"])
	assert.Equal(t, map[string]string{"keep": "1"}, obj.GetLabels())
	assert.Nil(t, obj.GetAnnotations())
}

func TestRemovePath(t *testing.T) {
	obj := mustYAML(t, `
spec:
  ports: [{port: 80, protocol: TCP, name: a}, {port: 80, protocol: UDP, name: b}]
  finalizers: [a.io/x, b.io/y]
`).Object
	set := &fieldpath.Set{}
	require.NoError(t, set.FromJSON(strings.NewReader(`{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"UDP\"}":{".":{}}},"f:finalizers":{"v:\"a.io/x\"":{}},"f:missing":{"f:x":{}}}}`)))
	set.Iterate(func(p fieldpath.Path) { obj = removePath(obj, p).(map[string]any) })
	assert.Equal(t, map[string]any{
		"ports":      []any{map[string]any{"port": float64(80), "protocol": "TCP", "name": "a"}},
		"finalizers": []any{"b.io/y"},
	}, obj["spec"])
}

func conflict(causes ...metav1.StatusCause) error {
	err := apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "old", errors.New("Apply failed"))
	err.ErrStatus.Details.Causes = causes
	return err
}

func TestWithoutManagers(t *testing.T) {
	csa := metav1.StatusCause{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl-client-side-apply" using v1`, Field: ".data.a"}
	other := metav1.StatusCause{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "helm" using v1`, Field: ".data.b"}
	assert.Nil(t, withoutManagers(conflict(csa), CSASet(nil)))

	err := withoutManagers(conflict(csa, other), CSASet(nil))
	var status apierrors.APIStatus
	require.ErrorAs(t, err, &status)
	assert.True(t, apierrors.IsConflict(err))
	assert.Equal(t, []metav1.StatusCause{other}, status.Status().Details.Causes)
	assert.Contains(t, err.Error(), `"helm"`)
	assert.NotContains(t, err.Error(), "kubectl-client-side-apply")

	same := conflict(other)
	assert.Same(t, same, withoutManagers(same, CSASet(nil)))
	assert.Equal(t, "helm", ConflictManager(other))
	assert.Equal(t, "", ConflictManager(metav1.StatusCause{Message: "no manager"}))
}

func TestNamespacePending(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "shop")
	set := object.NewSet(object.ID{Kind: "Namespace", Name: "shop"})
	assert.True(t, NamespacePending(notFound, "shop", set))
	assert.True(t, NamespacePending(NamespaceNotFound("shop"), "shop", set))
	assert.False(t, NamespacePending(notFound, "shop", object.NewSet()), "the set does not create it")
	assert.False(t, NamespacePending(apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "shop"), "shop", set),
		"another object not found")
	assert.ErrorIs(t, NamespaceNotFound("shop"), ErrNamespaceNotFound)
	assert.Equal(t, `namespace "shop" does not exist`, NamespaceNotFound("shop").Error())
}

func TestEnabled(t *testing.T) {
	for v, want := range map[string]bool{"enabled": true, "disabled": false} {
		got, err := Enabled(map[string]string{"k": v}, "k", "enabled")
		require.NoError(t, err)
		assert.Equal(t, want, got, v)
	}
	_, err := Enabled(map[string]string{"k": "yes"}, "k", "enabled")
	assert.EqualError(t, err, `annotation k="yes": want enabled or disabled`)
}

// FuzzReleased runs the dry run's local step, finding and removing the fields the
// migration releases, over any managed fields and object: it must not panic.
func FuzzReleased(f *testing.F) {
	f.Add(`{"f:data":{".":{},"f:b":{}}}`, `{"f:data":{"f:a":{}}}`, `{"data":{"a":"1","b":"2"}}`)
	f.Add(`{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"UDP\"}":{".":{}}}}}`, `{}`, `{"spec":{"ports":[{"port":80,"protocol":"UDP"}]}}`)
	f.Add(`{"f:spec":{"f:finalizers":{"v:\"x\"":{}},"f:l":{"i:3":{}}}}`, `{}`, `{"spec":{"finalizers":["x"],"l":[1]}}`)
	f.Fuzz(func(t *testing.T, csaFields, ourFields, body string) {
		obj := map[string]any{}
		if yaml.Unmarshal([]byte(body), &obj) != nil || obj == nil {
			obj = map[string]any{}
		}
		entry := func(manager, op, fields string) map[string]any {
			var fv any
			_ = yaml.Unmarshal([]byte(fields), &fv)
			return map[string]any{"manager": manager, "operation": op, "apiVersion": "v1", "fieldsV1": fv}
		}
		u := &unstructured.Unstructured{Object: obj}
		u.SetAPIVersion("v1")
		_ = unstructured.SetNestedSlice(u.Object, []any{
			entry("kubectl-client-side-apply", "Update", csaFields), entry("gitopskit", "Apply", ourFields),
		}, "metadata", "managedFields")
		gone, err := released(u, CSASet(nil))
		if err != nil {
			return
		}
		gone.Iterate(func(p fieldpath.Path) { u.Object = removePath(u.Object, p).(map[string]any) })
	})
}
