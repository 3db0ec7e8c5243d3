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
		assert.Equal(t, "diff /ConfigMap//nowhere (app.yaml:1): namespaced kind without a namespace", p.Failed[0].Error(), name)
		assert.Equal(t, `diff /ConfigMap/`+e.ns+`-ghost/lost (app.yaml:6): namespace "`+e.ns+`-ghost" does not exist, and the set does not create it`,
			p.Failed[1].Error(), name)
		require.Len(t, p.Changes, 1, name)
		assert.Equal(t, diff.Create, p.Changes[0].Action, name)
	}
}
