package apply_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// The case of issue #13: a Namespace leaves the set while the set keeps a
// ConfigMap in it and the inventory's parent lives there. It is kept, reported,
// and stays in the inventory, so the next apply reports it again.
func TestPruneKeepsNamespaceInUse(t *testing.T) {
	e := newEnv(t, apply.Options{})
	probe := e.unique("probe")
	inv, err := e.m.ApplySet(object.ID{Kind: "Secret", Namespace: probe, Name: "inv"}, apply.ApplySetOptions{})
	require.NoError(t, err)
	keepMe := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep-me, namespace: " + probe + "}\n"
	e.apply(e.objects(e.namespace(probe)+keepMe), apply.ApplyOptions{Inventory: inv, Prune: true})

	nsID := object.ID{Kind: "Namespace", Name: probe}
	for range 2 {
		res := e.apply(e.objects(keepMe), apply.ApplyOptions{Inventory: inv, Prune: true})
		ev := event(t, res, nsID)
		assert.Equal(t, apply.Skipped, ev.Action)
		assert.Contains(t, ev.Reason, "not pruned: the namespace still holds 2 objects")
		assert.Contains(t, ev.Reason, "configmap/keep-me -n "+probe)
		assert.Contains(t, ev.Reason, "secret/inv -n "+probe)
		require.Len(t, res.Warnings, 1)
		assert.Contains(t, res.Warnings[0], nsID.KubectlString()+" left the set but was kept")
		assert.False(t, e.deleted(namespaces, probe), "the namespace must not be deleted")
		members, err := inv.Load(context.Background())
		require.NoError(t, err)
		assert.Contains(t, members, nsID, "a namespace kept in use stays in the inventory")
	}

	// Allowed explicitly, it goes (and everything in it with it).
	res := e.apply(e.objects(keepMe), apply.ApplyOptions{Inventory: inv, Prune: true, AllowPruneInUse: true})
	assert.Equal(t, apply.Pruned, event(t, res, nsID).Action)
	assert.True(t, e.deleted(namespaces, probe))
}

// A Namespace that holds nothing but what the control plane puts in every
// namespace is pruned. One someone already deleted (Terminating) is reported as
// being deleted, not as pruned: this apply did not delete it.
func TestPruneEmptyNamespace(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	empty, doomed := e.unique("empty"), e.unique("doomed")
	other := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"
	e.apply(e.objects(e.namespace(empty)+e.namespace(doomed)+"---\n"+other), apply.ApplyOptions{Inventory: inv, Prune: true})
	// The control plane's objects of every namespace, made by hand here (the test
	// cluster runs no controller manager).
	e.create(configMaps, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: "+empty+"}\n")
	e.create(schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"},
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: "+empty+"}\n")
	// Without a namespace controller, a deleted namespace stays Terminating.
	require.NoError(t, e.dyn.Resource(namespaces).Delete(context.Background(), doomed, metav1.DeleteOptions{}))

	res := e.apply(e.objects(other), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, apply.Pruned, event(t, res, object.ID{Kind: "Namespace", Name: empty}).Action, "%+v", res.Events)
	assert.True(t, e.deleted(namespaces, empty))
	ev := event(t, res, object.ID{Kind: "Namespace", Name: doomed})
	assert.Equal(t, apply.Skipped, ev.Action)
	assert.Equal(t, "already being deleted", ev.Reason)
	assert.Empty(t, res.Warnings)
}

// An object nobody in the set owns holds its Namespace until it is gone.
func TestPruneKeepsNamespaceHoldingForeignObjects(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	data := e.unique("data")
	other := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"
	e.apply(e.objects(e.namespace(data)+"---\n"+other), apply.ApplyOptions{Inventory: inv, Prune: true})
	e.create(schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: db, namespace: `+data+`}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`)

	nsID := object.ID{Kind: "Namespace", Name: data}
	res := e.apply(e.objects(other), apply.ApplyOptions{Inventory: inv, Prune: true})
	ev := event(t, res, nsID)
	assert.Equal(t, apply.Skipped, ev.Action)
	assert.Contains(t, ev.Reason, "persistentvolumeclaim/db -n "+data)
	assert.False(t, e.deleted(namespaces, data))

	// Once the claim is being deleted, it goes whatever becomes of the namespace
	// (its protection finalizer stays: the test cluster runs no controller manager).
	require.NoError(t, e.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}).Namespace(data).
		Delete(context.Background(), "db", metav1.DeleteOptions{}))
	res = e.apply(e.objects(other), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, apply.Pruned, event(t, res, nsID).Action, "%+v", res.Events)
}

// A Namespace whose last objects leave the set with it is pruned after them.
func TestPruneNamespaceAfterItsLastObjects(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	gone := e.unique("gone")
	other := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"
	set := e.namespace(gone) + "---\n" + other +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: " + gone + "}\n" +
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: " + gone + "}\n"
	e.apply(e.objects(set), apply.ApplyOptions{Inventory: inv, Prune: true})

	res := e.apply(e.objects(other), apply.ApplyOptions{Inventory: inv, Prune: true})
	var order []string
	for _, ev := range res.Events {
		if ev.Action == apply.Pruned {
			order = append(order, ev.ID.Kind+"/"+ev.ID.Name)
		}
	}
	require.Len(t, order, 3, "%+v", res.Events)
	assert.ElementsMatch(t, []string{"ConfigMap/a", "Secret/b"}, order[:2])
	assert.Equal(t, "Namespace/"+gone, order[2])
	assert.True(t, e.deleted(namespaces, gone))
}

// widgetCRD returns the CustomResourceDefinition of namespaced Widgets (see crd).
func (e *env) widgetCRD() (string, schema.GroupVersionResource) { return e.crd("Widget", "Namespaced") }

func widget(group, name string) string {
	return "---\napiVersion: " + group + "/v1\nkind: Widget\nmetadata: {name: " + name + ", namespace: NS}\n"
}

// A CustomResourceDefinition that leaves the set is kept while custom resources
// of it remain that are not pruned with it, and pruned after its last ones.
func TestPruneKeepsCRDWithCustomResources(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	crd, widgets := e.widgetCRD()
	group := widgets.Group
	e.apply(e.objects(crd+widget(group, "gear")+widget(group, "old")), apply.ApplyOptions{Inventory: inv, Prune: true})
	e.create(widgets, "apiVersion: "+group+"/v1\nkind: Widget\nmetadata: {name: theirs, namespace: NS}\n")

	crdID := object.ID{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: "widgets." + group}
	res := e.apply(e.objects(widget(group, "gear")), apply.ApplyOptions{Inventory: inv, Prune: true})
	ev := event(t, res, crdID)
	assert.Equal(t, apply.Skipped, ev.Action)
	assert.Contains(t, ev.Reason, "2 custom resources of it are not pruned with it")
	assert.Contains(t, ev.Reason, "widget."+group+"/gear -n "+e.ns)
	assert.Contains(t, ev.Reason, "widget."+group+"/theirs -n "+e.ns)
	assert.NotContains(t, ev.Reason, "widget."+group+"/old -n "+e.ns, "old is pruned in the same pass")
	assert.Equal(t, apply.Pruned, event(t, res, object.ID{Group: group, Kind: "Widget", Namespace: e.ns, Name: "old"}).Action)
	assert.False(t, e.deleted(crds, "widgets."+group))
	require.Len(t, res.Warnings, 1)

	require.NoError(t, e.dyn.Resource(widgets).Namespace(e.ns).Delete(context.Background(), "theirs", metav1.DeleteOptions{}))
	res = e.apply(e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, apply.Pruned, event(t, res, object.ID{Group: group, Kind: "Widget", Namespace: e.ns, Name: "gear"}).Action)
	assert.Equal(t, apply.Pruned, event(t, res, crdID).Action, "%+v", res.Events)
	assert.True(t, e.deleted(crds, "widgets."+group))
}

// An object that carries the set's part-of label but was never applied by our
// field manager (the label was copied) is not pruned.
func TestPruneSkipsCopiedMembershipLabel(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	e.apply(e.objects(configMapSet("cm", 0, 2, "")), apply.ApplyOptions{Inventory: inv, Prune: true})
	e.createCopied(inv)

	res := e.apply(e.objects(configMapSet("cm", 0, 1, "")), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, map[string]apply.Action{"cm-0": apply.Unchanged, "cm-1": apply.Pruned, "copied": apply.Skipped}, actions(res))
	ev := event(t, res, object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: "copied"})
	assert.Contains(t, ev.Reason, `field manager "gitopskit" never applied it`)
	_, err := e.get(configMaps, "copied")
	assert.NoError(t, err)
}

// A dry run decides every prune as the real run then does: kept namespaces and
// definitions, namespaces and definitions emptied in the same pass, copied labels.
func TestPruneDryRunReportsTheRealDecisions(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inv", apply.ApplySetOptions{})
	used, emptied := e.unique("used"), e.unique("emptied")
	crd, widgets := e.widgetCRD()
	other := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"
	keep := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: " + used + "}\n"
	e.apply(e.objects(e.namespace(used)+e.namespace(emptied)+crd+widget(widgets.Group, "gear")+other+keep+
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: "+emptied+"}\n"), apply.ApplyOptions{Inventory: inv, Prune: true})
	e.createCopied(inv)

	decisions := func(res *apply.Result) []string {
		var out []string
		for _, ev := range res.Events {
			out = append(out, fmt.Sprintf("%s %s %s", ev.ID, ev.Action, ev.Reason))
		}
		slices.Sort(out)
		return out
	}
	next := e.objects(other + keep)
	dry := e.apply(next, apply.ApplyOptions{Inventory: inv, Prune: true, DryRun: true})
	assert.False(t, e.deleted(namespaces, emptied), "a dry run deletes nothing")
	assert.False(t, e.deleted(crds, "widgets."+widgets.Group))
	real := e.apply(next, apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, decisions(real), decisions(dry))
	assert.Equal(t, real.Warnings, dry.Warnings)

	want := map[string]apply.Action{"keep": apply.Unchanged, "other": apply.Unchanged, "a": apply.Pruned, "gear": apply.Pruned,
		emptied: apply.Pruned, "widgets." + widgets.Group: apply.Pruned, used: apply.Skipped, "copied": apply.Skipped}
	assert.Equal(t, want, actions(real))
	assert.True(t, strings.HasPrefix(event(t, real, object.ID{Kind: "Namespace", Name: used}).Reason, "not pruned: the namespace still holds"))
	assert.True(t, e.deleted(namespaces, emptied))
	assert.False(t, e.deleted(namespaces, used))
}

// A Manager that cannot list the cluster's resource types cannot tell whether a
// Namespace is empty: it keeps it and says why.
func TestPruneWithoutDiscoveryKeepsNamespaces(t *testing.T) {
	e := newEnv(t, apply.Options{})
	dc := discovery.NewDiscoveryClientForConfigOrDie(cluster.Config(t))
	m, err := apply.New(e.dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), apply.Options{})
	require.NoError(t, err)
	e.m = m
	inv := e.applySet("inv", apply.ApplySetOptions{})
	empty := e.unique("empty")
	other := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: NS}\n"
	e.apply(e.objects(e.namespace(empty)+"---\n"+other), apply.ApplyOptions{Inventory: inv, Prune: true})

	res := e.apply(e.objects(other), apply.ApplyOptions{Inventory: inv, Prune: true})
	ev := event(t, res, object.ID{Kind: "Namespace", Name: empty})
	assert.Equal(t, apply.Skipped, ev.Action)
	assert.Contains(t, ev.Reason, "cannot tell what it still holds: no discovery client")
	assert.False(t, e.deleted(namespaces, empty))
}

// createCopied creates a ConfigMap named copied that carries the set's part-of
// label without ever being applied by our field manager. The label goes on
// after decoding: an ApplySet ID may contain the NS placeholder.
func (e *env) createCopied(inv *apply.ApplySet) {
	e.t.Helper()
	u := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: copied, namespace: NS}\n")[0]
	u.SetLabels(map[string]string{apply.ApplySetPartOfLabel: inv.ID()})
	_, err := e.dyn.Resource(configMaps).Namespace(e.ns).Create(context.Background(), u, metav1.CreateOptions{FieldManager: "someone-else"})
	require.NoError(e.t, err)
}
