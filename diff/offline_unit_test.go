package diff

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/diff/internal/builtin"
)

func TestQuantityValue(t *testing.T) {
	for in, want := range map[any]any{
		int64(1): "1", 0.5: "500m", float64(1e3): "1k", "1000m": "1", "0.5Gi": "512Mi",
		float64(1 << 30): "1073741824", 1.5: "1500m", "x": "x", true: true, int64(67108864): "67108864", float64(5e8): "500M",
	} {
		assert.Equal(t, want, quantityValue(in), "%v", in)
	}
}

// decodeLikeServer writes quantities as the server stores them and drops the empty
// scalars the built-in types omit, wherever they are in the object.
func TestDecodeLikeServer(t *testing.T) {
	var b builtinSchemas
	k, ok, err := b.kind(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})
	require.NoError(t, err)
	require.True(t, ok)
	u := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ""}
spec:
  minReadySeconds: 0
  replicas: 0
  template:
    spec:
      hostNetwork: false
      containers:
      - name: web
        stdin: false
        resources: {requests: {cpu: 0.5, memory: 1e3}, limits: {cpu: 1}}
        env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1024Ki}}}]
        ports: [{containerPort: 80, hostPort: 0}]
      volumes: [{name: s, emptyDir: {sizeLimit: 0.5Gi}}]
`)
	b.index.decodeLikeServer(u.Object, k)
	want := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  template:
    spec:
      containers:
      - name: web
        resources: {requests: {cpu: 500m, memory: 1k}, limits: {cpu: "1"}}
        env: [{name: A, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}]
        ports: [{containerPort: 80}]
      volumes: [{name: s, emptyDir: {sizeLimit: 512Mi}}]
`)
	assert.Equal(t, want.Object, u.Object)
}

// A CRD manifest types its custom resources as the API server would: list types,
// metadata, embedded resources, int-or-string fields.
func TestCRDManifestTyping(t *testing.T) {
	crd := obj(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: widgets, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items: {type: object, required: [name], properties: {name: {type: string}, count: {type: integer}}}
              port: {x-kubernetes-int-or-string: true}
              template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
`)
	o := NewOffline(nil, OfflineOptions{CRDs: []*unstructured.Unstructured{crd}})
	gvk := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	tc, typing, err := o.typeConverter(context.Background(), gvk)
	require.NoError(t, err)
	assert.Equal(t, TypingCRDManifest, typing)
	assert.True(t, o.clusterScoped(gvk, builtin.Kind{}, false))
	w := obj(t, `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, labels: {a: b}}, spec: {parts: [{name: x, count: 1}], port: http, template: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {any: thing}}}}`)
	tv, err := tc.ObjectToTyped(w)
	require.NoError(t, err)
	set, err := tv.ToFieldSet()
	require.NoError(t, err)
	// The list is a map keyed by name, and metadata is object metadata.
	assert.Contains(t, set.String(), `.spec.parts[name="x"].count`)
	assert.Contains(t, set.String(), `.metadata.labels.a`)
	_, err = tc.ObjectToTyped(obj(t, `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {unknown: 1}}`))
	assert.ErrorContains(t, err, "unknown")

	// Without the manifest, the kind is deduced.
	_, typing, err = NewOffline(nil, OfflineOptions{}).typeConverter(context.Background(), gvk)
	require.NoError(t, err)
	assert.Equal(t, TypingDeduced, typing)
}

func TestCRDManifestErrors(t *testing.T) {
	crd := obj(t, `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: widgets.example.com}, spec: {group: example.com, names: {kind: Widget}, versions: [{name: v1}]}}`)
	o := NewOffline(nil, OfflineOptions{CRDs: []*unstructured.Unstructured{crd}})
	_, _, err := o.typeConverter(context.Background(), schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
	assert.ErrorContains(t, err, `CRD manifest widgets.example.com: version "v1" (spec.versions[0]) has no schema.openAPIV3Schema`)
}

func FuzzDecodeLikeServer(f *testing.F) {
	f.Add([]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":0.5}},"stdin":false}]}}}}`))
	f.Add([]byte(`{"spec":{"template":{"spec":{"volumes":[{"emptyDir":{"sizeLimit":"x"}}],"containers":{"a":1}}}},"metadata":[]}`))
	var b builtinSchemas
	k, _, err := b.kind(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		b.index.decodeLikeServer(m, k)
		again := runtime.DeepCopyJSON(m)
		b.index.decodeLikeServer(again, k)
		assert.Equal(t, m, again, "not idempotent")
	})
}

func FuzzCRDManifest(f *testing.F) {
	f.Add([]byte(`{"spec":{"group":"example.com","names":{"kind":"W"},"versions":[{"name":"v1","schema":{"openAPIV3Schema":{"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"map"}}}}}]}}`))
	f.Add([]byte(`{"spec":{"group":"example.com","names":{"kind":"W"},"versions":[{"name":"v1","schema":{"openAPIV3Schema":{"x-kubernetes-embedded-resource":true,"items":{}}}}]}}`))
	var b builtinSchemas
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if json.Unmarshal(data, &u.Object) != nil || u.Object == nil {
			return
		}
		u.SetAPIVersion("apiextensions.k8s.io/v1")
		u.SetKind("CustomResourceDefinition")
		tc, err := convertCRD(u, b.metaTypes)
		if err != nil {
			return
		}
		for gvk := range tc.names {
			w := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"a": []any{map[string]any{"x": int64(1)}}}}}
			w.SetGroupVersionKind(gvk)
			_, _ = tc.ObjectToTyped(w)
		}
	})
}
