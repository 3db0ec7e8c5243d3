package diff_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// TestPlanNamespaceErrors checks, with each engine, that an object the API server
// would refuse for its namespace fails with an error that says why and names the
// object and its file, while the others are planned.
func TestPlanNamespaceErrors(t *testing.T) {
	e := newEnv(t)
	const set = `apiVersion: v1
kind: ConfigMap
metadata: {name: nowhere}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: lost, namespace: NS-ghost}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: NS}
data: {k: v}
`
	ms, err := object.Decode(strings.NewReader(strings.ReplaceAll(set, "NS", e.ns)), "app.yaml")
	require.NoError(t, err)
	in := diff.Input{Desired: object.Objects(ms), Origins: map[object.ID]object.Origin{}}
	for _, m := range ms {
		in.Origins[object.IDOf(m.Object)] = m.Origin
	}
	server, offline := e.differs(diff.Options{})
	for name, d := range map[string]*diff.Differ{"server": server, "offline": offline} {
		p, err := d.Plan(e.ctx, in)
		require.Error(t, err, name)
		require.Len(t, p.Failed, 2, name)
		assert.Equal(t, "app.yaml:1: configmap/nowhere: namespaced kind without a namespace", p.Failed[0].Error(), name)
		assert.Equal(t, `app.yaml:6: configmap/lost -n `+e.ns+`-ghost: namespace "`+e.ns+`-ghost" does not exist, and the set does not create it`,
			p.Failed[1].Error(), name)
		require.Len(t, p.Changes, 1, name)
		assert.Equal(t, diff.Create, p.Changes[0].Action, name)
	}
}

// TestPlanCustomResourceOfTheSetsCRD checks, with each engine, that a custom
// resource whose CustomResourceDefinition the same set brings is planned as a
// create predicted as declared, as apply's dry run skips it, instead of failing
// because the cluster does not serve its kind yet.
func TestPlanCustomResourceOfTheSetsCRD(t *testing.T) {
	e := newEnv(t)
	const set = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.pending.gitopskit.io}
spec:
  group: pending.gitopskit.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: pending.gitopskit.io/v1
kind: Gadget
metadata: {name: g, namespace: NS}
spec: {size: 3}
`
	ms, err := object.Decode(strings.NewReader(strings.ReplaceAll(set, "NS", e.ns)), "app.yaml")
	require.NoError(t, err)
	server, offline := e.differs(diff.Options{})
	for name, d := range map[string]*diff.Differ{"server": server, "offline": offline} {
		p, err := d.Plan(e.ctx, diff.Input{Desired: object.Objects(ms)})
		require.NoError(t, err, name)
		require.Empty(t, p.Failed, name)
		require.Len(t, p.Changes, 2, name)
		for _, c := range p.Changes {
			assert.Equal(t, diff.Create, c.Action, "%s %s", name, c.ID)
		}
		assert.Equal(t, 2, p.Counts.Create, name)
	}
}
