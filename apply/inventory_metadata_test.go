package apply_test

import (
	"context"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
)

// Members listed as metadata only are the members listed whole.
func TestApplySetMetadataListAgrees(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("set", apply.ApplySetOptions{})
	e.apply(e.objects(`apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: NS}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`), apply.ApplyOptions{Inventory: inv})

	viaMetadata, err := inv.Load(context.Background())
	require.NoError(t, err)

	dc := discovery.NewDiscoveryClientForConfigOrDie(cluster.Config(t))
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	whole, err := apply.NewApplySet(e.dyn, mapper, object.ID{Kind: "Secret", Namespace: e.ns, Name: "set"}, apply.ApplySetOptions{})
	require.NoError(t, err)
	viaDynamic, err := whole.Load(context.Background())
	require.NoError(t, err)

	assert.Len(t, viaMetadata, 2)
	assert.Equal(t, viaDynamic, viaMetadata)
	assert.Contains(t, viaMetadata, object.ID{Group: "apps", Kind: "Deployment", Namespace: e.ns, Name: "web"})
}
