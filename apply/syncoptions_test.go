package apply_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
)

// cm is a ConfigMap manifest in NS with annotations (YAML flow map entries).
func cm(name, annotations string) string {
	return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: NS, annotations: {" + annotations + "}}\ndata: {k: v}\n"
}

// Argo CD's Prune=false keeps an object whenever it leaves the set; Delete=false
// only when the whole set is deleted.
func TestArgoPruneFalseAndDeleteFalse(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	noPrune := "argocd.argoproj.io/sync-options: Prune=false"
	noDelete := "argocd.argoproj.io/sync-options: Delete=false"
	e.apply(e.objects(cm("no-prune", noPrune)+cm("no-delete", noDelete)+cm("plain", "")+cm("stays", noDelete)),
		apply.ApplyOptions{Inventory: inv, Prune: true})

	res := e.apply(e.objects(cm("stays", noDelete)), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, map[string]apply.Action{"no-prune": apply.Skipped, "no-delete": apply.Pruned, "plain": apply.Pruned, "stays": apply.Unchanged}, actions(res))
	assert.Contains(t, event(t, res, object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "no-prune"}).Reason, "Prune=false")

	// The set deleted: an empty set with AllowEmpty, as a finalizer runs it.
	res = e.apply(nil, apply.ApplyOptions{Inventory: inv, Prune: true, AllowEmpty: true})
	ev := event(t, res, object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "stays"})
	assert.Equal(t, apply.Skipped, ev.Action)
	assert.Contains(t, ev.Reason, "the set is deleted and annotation argocd.argoproj.io/sync-options has Delete=false")
	for name, gone := range map[string]bool{"no-prune": false, "no-delete": true, "plain": true, "stays": false} {
		_, err := e.get(configMaps, name)
		assert.Equal(t, gone, apierrors.IsNotFound(err), "%s: %v", name, err)
	}
	members, err := inv.Load(context.Background())
	require.NoError(t, err)
	assert.Empty(t, members, "a kept object leaves the inventory")
}

// PruneLast=true objects are pruned after every other member that leaves, but
// before the Namespace that holds them.
func TestPruneLast(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	other := e.unique("other")
	in := func(ns, name, kind, ann string) string {
		m := "---\napiVersion: v1\nkind: " + kind + "\nmetadata: {name: " + name + ", namespace: " + ns + ", annotations: {" + ann + "}}\n"
		if kind == "Service" {
			m += "spec: {ports: [{port: 80}]}\n"
		}
		return m
	}
	last := "argocd.argoproj.io/sync-options: PruneLast=true"
	set := e.namespace(other) + in(other, "z-last", "ConfigMap", last) + in(other, "plain", "ConfigMap", "") +
		in(e.ns, "a-last", "Service", last) + in(e.ns, "svc", "Service", "") + in(e.ns, "keep", "ConfigMap", "")
	e.apply(e.objects(set), apply.ApplyOptions{Inventory: inv, Prune: true})

	var order []string
	res := e.apply(e.objects(in(e.ns, "keep", "ConfigMap", "")), apply.ApplyOptions{Inventory: inv, Prune: true,
		OnEvent: func(ev apply.Event) {
			if ev.Action == apply.Pruned {
				order = append(order, ev.ID.Kind+"/"+ev.ID.Name)
			}
		}})
	require.Equal(t, 0, res.Count(apply.Failed), "%+v", res.Events)
	require.Len(t, order, 5, "%+v", res.Events)
	assert.ElementsMatch(t, []string{"ConfigMap/plain", "Service/svc"}, order[:2], "the others first")
	assert.ElementsMatch(t, []string{"ConfigMap/z-last", "Service/a-last"}, order[2:4], "then PruneLast")
	assert.Equal(t, "Namespace/"+other, order[4], "the Namespace that held one of them last")
}

// Flux's reconcile: disabled and ssa: Ignore, set on the live object by hand,
// keep it from prune.
func TestFluxDisabledOnLiveIsNotPruned(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	e.apply(e.objects(cm("disabled", "")+cm("ignored", "")+cm("keep", "")), apply.ApplyOptions{Inventory: inv, Prune: true})
	for name, ann := range map[string]string{"disabled": `"kustomize.toolkit.fluxcd.io/reconcile":"disabled"`, "ignored": `"kustomize.toolkit.fluxcd.io/ssa":"Ignore"`} {
		_, err := e.dyn.Resource(configMaps).Namespace(e.ns).Patch(ctx, name, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{`+ann+`}}}`), metav1.PatchOptions{FieldManager: "kubectl-annotate"})
		require.NoError(t, err)
	}
	res := e.apply(e.objects(cm("keep", "")), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, map[string]apply.Action{"disabled": apply.Skipped, "ignored": apply.Skipped, "keep": apply.Unchanged}, actions(res))
	for _, name := range []string{"disabled", "ignored"} {
		_, err := e.get(configMaps, name)
		require.NoError(t, err, name)
	}
}

// CreateNamespace=true on an object creates its namespace, and no other.
func TestCreateNamespaceOnObject(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	app := e.missingNamespace("app")
	objs := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: " + app +
		", annotations: {argocd.argoproj.io/sync-options: CreateNamespace=true}}\n")
	nsID := object.ID{Kind: "Namespace", Name: app}

	res, err := e.m.Apply(ctx, objs, apply.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, apply.Created, event(t, res, nsID).Action)
	assert.Equal(t, apply.Skipped, actions(res)["cfg"], "it waits for its namespace")

	res = e.apply(objs, apply.ApplyOptions{})
	assert.Equal(t, apply.Created, event(t, res, nsID).Action)
	assert.Equal(t, apply.Created, actions(res)["cfg"])

	// Another object in a missing namespace, without the option, still fails.
	other := e.missingNamespace("other")
	_, err = e.m.Apply(ctx, e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: "+other+"}\n"), apply.ApplyOptions{})
	assert.ErrorContains(t, err, "CreateNamespace")
}

// SkipDryRunOnMissingResource=true lets a dry run skip an object whose kind the
// cluster does not serve; the apply itself still fails on it.
func TestSkipDryRunOnMissingResource(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	manifest := func(ann string) string {
		return "apiVersion: constraints.example.com/v1\nkind: Rule\nmetadata: {name: r, namespace: NS, annotations: {" + ann + "}}\n"
	}
	objs := e.objects(manifest("argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true"))
	res, err := e.m.Apply(ctx, objs, apply.ApplyOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, apply.Skipped, actions(res)["r"])
	assert.Contains(t, res.Events[0].Reason, "SkipDryRunOnMissingResource")

	_, err = e.m.Apply(ctx, objs, apply.ApplyOptions{})
	assert.True(t, meta.IsNoMatchError(err), "%v", err)
	_, err = e.m.Apply(ctx, e.objects(manifest("")), apply.ApplyOptions{DryRun: true})
	assert.True(t, meta.IsNoMatchError(err), "without the option, a dry run fails: %v", err)
}
