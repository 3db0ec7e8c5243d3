package apply_test

import (
	"context"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

// Members read off the caller's lists are the members Load lists, and an object
// in those lists without our label, or with another set's, is not one.
func TestApplySetLoadListed(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	inv := e.applySet("set", apply.ApplySetOptions{})
	e.apply(e.objects(`apiVersion: v1
kind: ConfigMap
metadata: {name: ours, namespace: NS}
---
apiVersion: v1
kind: Secret
metadata: {name: ours-too, namespace: NS}
`), apply.ApplyOptions{Inventory: inv})
	other := e.applySet("other", apply.ApplySetOptions{})
	e.apply(e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: NS}\n"), apply.ApplyOptions{Inventory: other})
	e.apply(e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nobodys, namespace: NS}\n"), apply.ApplyOptions{})

	want, err := inv.Load(ctx)
	require.NoError(t, err)
	cms, err := e.dyn.Resource(configMaps).Namespace(e.ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, cms.Items, 3)
	var listed []metav1.Object
	for i := range cms.Items {
		listed = append(listed, &cms.Items[i])
	}
	calls := 0
	got, err := inv.LoadListed(ctx, func(gvr schema.GroupVersionResource, ns string) ([]metav1.Object, bool) {
		calls++
		if gvr == configMaps && ns == e.ns {
			return listed, true
		}
		return nil, false // Secrets are listed by the ApplySet itself
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls, "the parent's resource, then the two kinds of members")
	assert.Equal(t, want, got)
	assert.Equal(t, []object.ID{
		{Kind: "ConfigMap", Namespace: e.ns, Name: "ours"},
		{Kind: "Secret", Namespace: e.ns, Name: "ours-too"},
	}, got)
}
