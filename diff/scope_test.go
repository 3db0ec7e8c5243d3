package diff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// A cluster-scoped object declared with a namespace is compared, with Mapper, as
// the API server stores it: without the namespace, so its live copy and its
// inventory entry are its own and nothing changes.
func TestPlanClusterScopedObjectDeclaredWithNamespace(t *testing.T) {
	e := newEnv(t)
	name := "reader-" + e.ns[len(e.ns)-6:]
	ms, err := object.Decode(strings.NewReader(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: `+name+`, namespace: `+e.ns+`}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
`), "role.yaml")
	require.NoError(t, err)
	role := ms[0].Object
	t.Cleanup(func() {
		_ = e.dyn.Resource(schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}).
			Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	e.apply(role.DeepCopy())
	id := object.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}
	in := diff.Input{Desired: []*unstructured.Unstructured{role}, Live: e.live(role), Inventory: []object.ID{id}}

	p := both(t, e, diff.Options{Mapper: e.mapper}, in)
	assert.Equal(t, diff.Counts{None: 1}, p.Counts, "%+v", p.Changes)
	require.Len(t, p.Changes, 1)
	assert.Equal(t, id, p.Changes[0].ID)
	assert.Equal(t, e.ns, role.GetNamespace(), "the input is not modified")

	// Without a mapper the engines still find the live copy by the kind's scope.
	server, _ := e.differs(diff.Options{})
	p, err = server.Plan(e.ctx, in)
	require.NoError(t, err)
	assert.Equal(t, diff.Counts{None: 1}, p.Counts)
}
