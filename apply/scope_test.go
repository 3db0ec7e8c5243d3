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
)

var clusterRoles = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}

// clusterScopedWithNamespace returns a ClusterRole declared with a namespace (as in
// a file that sets one), a CRD of cluster-scoped Gadgets and a Gadget declared
// with a namespace (as under a kustomization's `namespace:`, which sets it on
// kinds it does not know), and the identities the cluster gives them.
func (e *env) clusterScopedWithNamespace() (string, []object.ID) {
	role := e.unique("reader")
	crd, gadgets := e.crd("Gadget", "Cluster")
	group := gadgets.Group
	e.t.Cleanup(func() { _ = e.dyn.Resource(clusterRoles).Delete(context.Background(), role, metav1.DeleteOptions{}) })
	return `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ` + role + `, namespace: elsewhere}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
` + crd + `---
apiVersion: ` + group + `/v1
kind: Gadget
metadata: {name: ` + role + `, namespace: NS}
`, []object.ID{
			{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
			{Group: group, Kind: "Gadget", Name: role},
		}
}

// A cluster-scoped object declared with a namespace is the live object, which has
// none: applied, recorded, found unchanged, and never pruned as if it had left.
func TestApplyKeepsClusterScopedObjectDeclaredWithNamespace(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	set, ids := e.clusterScopedWithNamespace()
	objs := e.objects(set)
	for i, want := range []apply.Action{apply.Created, apply.Unchanged, apply.Unchanged} {
		res := e.apply(objs, apply.ApplyOptions{Inventory: inv, Prune: true})
		assert.Zero(t, res.Count(apply.Pruned), "apply %d: %+v", i, res.Events)
		for _, id := range ids {
			assert.Equal(t, want, event(t, res, id).Action, "apply %d: %s", i, id)
		}
		_, err := e.dyn.Resource(clusterRoles).Get(context.Background(), ids[0].Name, metav1.GetOptions{})
		require.NoError(t, err, "apply %d", i)
	}
	members, err := inv.Load(context.Background())
	require.NoError(t, err)
	assert.Subset(t, members, ids)
	parent, err := e.get(secretsGVR, "inv")
	require.NoError(t, err)
	assert.Empty(t, parent.GetAnnotations()[apply.ApplySetAdditionalNamespacesAnnot], "no namespace recorded for cluster-scoped members")
}

// A dependency on a cluster-scoped object names it without a namespace, whatever
// namespace its manifest declares.
func TestApplyDependsOnClusterScopedObjectDeclaredWithNamespace(t *testing.T) {
	e := newEnv(t, apply.Options{})
	set, ids := e.clusterScopedWithNamespace()
	set += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after, namespace: NS, annotations: {config.kubernetes.io/depends-on: rbac.authorization.k8s.io/ClusterRole/" + ids[0].Name + "}}\n"
	res := e.apply(e.objects(set), apply.ApplyOptions{})
	assert.Equal(t, 4, res.Count(apply.Created), "%+v", res.Events)
}
