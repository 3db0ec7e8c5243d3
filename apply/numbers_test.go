package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
)

// An integer beyond int64 is refused when it is decoded, because the API server
// would store another number: the float that decoders make of it (1e+20) is
// applied without an error and becomes some other replica count.
func TestIntegerBeyondInt64NeverApplied(t *testing.T) {
	e := newEnv(t, apply.Options{})
	manifest := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: huge\n  namespace: " + e.ns + "\n" +
		"spec:\n  replicas: 99999999999999999999\n  selector: {matchLabels: {app: huge}}\n" +
		"  template:\n    metadata: {labels: {app: huge}}\n    spec: {containers: [{name: c, image: nginx}]}\n"
	_, err := object.Decode(strings.NewReader(manifest), "deploy.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deploy.yaml:7: invalid object: spec.replicas: 99999999999999999999 does not fit a 64-bit integer")

	// What the decoders used to hand over, and what the server makes of it.
	ms, err := object.Decode(strings.NewReader(strings.Replace(manifest, "99999999999999999999", "1", 1)), "deploy.yaml")
	require.NoError(t, err)
	u := ms[0].Object
	require.NoError(t, unstructured.SetNestedField(u.Object, 1e20, "spec", "replicas"))
	_, err = e.m.Apply(context.Background(), []*unstructured.Unstructured{u}, apply.ApplyOptions{})
	if err != nil {
		return // a server that refuses it is as good
	}
	live, err := e.get(deployments, "huge")
	require.NoError(t, err)
	replicas, _, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "replicas")
	t.Logf("applied spec.replicas 1e+20; the server stored %v", replicas)
	assert.NotEqual(t, 1e20, replicas, "the server kept the number")
}
