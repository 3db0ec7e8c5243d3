package diff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// NewForConfig builds an offline Differ typed by the cluster's schemas, whose
// mapper drops the namespace a manifest gives a cluster-scoped object.
func TestNewForConfig(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	d, err := diff.NewForConfig(cfg, diff.Options{FieldManager: "gitopskit"})
	require.NoError(t, err)
	ms, err := object.Decode(strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: "+ns+"}\ndata: {k: v}\n---\n"+
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: "+ns+"-reader, namespace: "+ns+"}\n"), "app.yaml")
	require.NoError(t, err)
	p, err := d.Plan(context.Background(), diff.Input{Desired: object.Objects(ms)})
	require.NoError(t, err)
	require.Len(t, p.Changes, 2)
	for _, c := range p.Changes {
		assert.Equal(t, diff.Create, c.Action, c.ID.String())
		assert.Equal(t, diff.TypingCluster, c.Typing, c.ID.String())
	}
	assert.Equal(t, object.ID{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ns + "-reader"}, p.Changes[1].ID)
}
