package diff_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// decode decodes manifests after replacing NS with the test's namespace.
func (e *env) decode(manifests string) []*unstructured.Unstructured {
	e.t.Helper()
	ms, err := object.Decode(strings.NewReader(strings.ReplaceAll(manifests, "NS", e.ns)), "app.yaml")
	require.NoError(e.t, err)
	return object.Objects(ms)
}

// changes returns the plan's changes by object name.
func changes(p *diff.Plan) map[string]*diff.Change {
	out := map[string]*diff.Change{}
	for _, c := range p.Changes {
		out[c.ID.Name] = c
	}
	return out
}

// TestPlanIgnoreExtraneous: a member that left the set, that prune keeps and that
// is annotated IgnoreExtraneous is no change; without either, it is a Delete.
func TestPlanIgnoreExtraneous(t *testing.T) {
	e := newEnv(t)
	live := e.decode(`apiVersion: v1
kind: ConfigMap
metadata: {name: ignored, namespace: NS, annotations: {argocd.argoproj.io/compare-options: IgnoreExtraneous, argocd.argoproj.io/sync-options: Prune=false}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: pruned, namespace: NS, annotations: {argocd.argoproj.io/compare-options: IgnoreExtraneous}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: NS, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept-when-deleted, namespace: NS, annotations: {argocd.argoproj.io/compare-options: IgnoreExtraneous, argocd.argoproj.io/sync-options: Delete=false}}
`)
	_, offline := e.differs(diff.Options{})
	p, err := offline.Plan(e.ctx, diff.Input{Desired: e.decode("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays, namespace: NS}\n"),
		Live: live, Inventory: object.IDs(live)})
	require.NoError(t, err)
	got := changes(p)
	assert.Equal(t, diff.None, got["ignored"].Action)
	assert.Contains(t, got["ignored"].Reason, "Prune=false")
	assert.Equal(t, diff.Delete, got["pruned"].Action, "prune deletes it: a change whatever its compare options")
	assert.Equal(t, diff.Delete, got["kept"].Action, "out of sync, as in Argo CD, without IgnoreExtraneous")
	assert.Equal(t, diff.Delete, got["kept-when-deleted"].Action, "the set goes on: prune deletes it")
	assert.Equal(t, 3, p.Counts.Delete)

	// The set deleted: Delete=false keeps it.
	p, err = offline.Plan(e.ctx, diff.Input{Live: live, Inventory: object.IDs(live)})
	require.NoError(t, err)
	assert.Equal(t, diff.None, changes(p)["kept-when-deleted"].Action)
}

// TestPlanServerSideDiff: ServerSideDiff=true diffs the object with the server
// engine, which an offline engine with a client makes; others stay offline.
func TestPlanServerSideDiff(t *testing.T) {
	e := newEnv(t)
	objs := e.decode(`apiVersion: v1
kind: ConfigMap
metadata: {name: server, namespace: NS, annotations: {argocd.argoproj.io/compare-options: ServerSideDiff=true}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: offline, namespace: NS}
`)
	_, offline := e.differs(diff.Options{})
	p, err := offline.Plan(e.ctx, diff.Input{Desired: objs})
	require.NoError(t, err)
	got := changes(p)
	assert.Equal(t, diff.Typing(""), got["server"].Typing, "the server engine types nothing itself")
	assert.Equal(t, diff.TypingCluster, got["offline"].Typing)

	// Without a cluster, the offline engine predicts it and says so.
	alone, err := diff.New(diff.NewOffline(nil, diff.OfflineOptions{}), diff.Options{FieldManager: manager})
	require.NoError(t, err)
	p, err = alone.Plan(e.ctx, diff.Input{Desired: objs})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(changes(p)["server"].Warnings, "\n"), "ask for a server-side diff, but the engine has no cluster")
}

// TestPlanSkipDryRunOnMissingResource: an object of a kind the cluster does not
// serve is a create predicted as declared with SkipDryRunOnMissingResource=true,
// as apply's dry run skips it; without it, the server engine fails it.
func TestPlanSkipDryRunOnMissingResource(t *testing.T) {
	e := newEnv(t)
	manifest := func(name, ann string) string {
		return "---\napiVersion: constraints.example.com/v1\nkind: Rule\nmetadata: {name: " + name + ", namespace: NS, annotations: {" + ann + "}}\n"
	}
	server, _ := e.differs(diff.Options{})
	p, err := server.Plan(e.ctx, diff.Input{Desired: e.decode(manifest("skipped", "argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true") + manifest("failed", ""))})
	require.Error(t, err)
	require.Len(t, p.Failed, 1)
	assert.Equal(t, "failed", p.Failed[0].ID.Name)
	c := changes(p)["skipped"]
	require.NotNil(t, c)
	assert.Equal(t, diff.Create, c.Action)
	assert.Contains(t, strings.Join(c.Warnings, "\n"), "SkipDryRunOnMissingResource=true")
}

// TestPlanCreateNamespaceOnObject: an object annotated CreateNamespace=true whose
// namespace does not exist is a create, as the apply creates its namespace.
func TestPlanCreateNamespaceOnObject(t *testing.T) {
	e := newEnv(t)
	objs := e.decode(`apiVersion: v1
kind: ConfigMap
metadata: {name: made, namespace: NS-made, annotations: {argocd.argoproj.io/sync-options: CreateNamespace=true}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: lost, namespace: NS-lost}
`)
	server, offline := e.differs(diff.Options{})
	for name, d := range map[string]*diff.Differ{"server": server, "offline": offline} {
		p, err := d.Plan(e.ctx, diff.Input{Desired: objs})
		require.Error(t, err, name)
		require.Len(t, p.Failed, 1, name)
		assert.Equal(t, "lost", p.Failed[0].ID.Name, name)
		c := changes(p)["made"]
		require.NotNil(t, c, name)
		assert.Equal(t, diff.Create, c.Action, name)
		assert.Contains(t, strings.Join(c.Warnings, "\n"), "created for it (CreateNamespace=true)", name)
	}
}

// TestPlanOutputSaysWhySkipped: the text output with All and the JSON output
// give the reason of an object the apply skips.
func TestPlanOutputSaysWhySkipped(t *testing.T) {
	reason := "not applied: annotation kustomize.toolkit.fluxcd.io/ssa=Ignore"
	p := diff.NewPlan([]*diff.Change{{ID: object.ID{Kind: "ConfigMap", Namespace: "shop", Name: "settings"}, Action: diff.None, Reason: reason}}, nil)
	var text, js strings.Builder
	require.NoError(t, p.WriteText(&text, diff.TextOptions{All: true}))
	assert.Equal(t, "# /ConfigMap/shop/settings: skipped: "+reason+"\n", text.String())
	require.NoError(t, p.WriteJSON(&js))
	assert.Contains(t, js.String(), `"reason": "`+reason+`"`)
}
