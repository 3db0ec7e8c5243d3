package apply_test

import (
	"context"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// missingNamespace returns a namespace name no test uses, deleted after the test.
func (e *env) missingNamespace(prefix string) string {
	name := e.unique(prefix)
	e.t.Cleanup(func() { _ = e.dyn.Resource(namespaces).Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

func TestCreateNamespace(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	app := e.missingNamespace("app")
	objs := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: " + app + "}\n")
	inv := e.applySet("set", apply.ApplySetOptions{})

	// Off: the error names the namespace, the object and the option.
	_, err := e.m.Apply(ctx, objs, apply.ApplyOptions{Inventory: inv})
	require.Error(t, err)
	cfgID := object.ID{Kind: "ConfigMap", Namespace: app, Name: "cfg"}
	assert.ErrorContains(t, err, `namespace "`+app+`" of `+cfgID.String()+` does not exist`)
	assert.ErrorContains(t, err, "CreateNamespace")

	// Dry run: reported, not created; the object waits for it.
	res, err := e.m.Apply(ctx, objs, apply.ApplyOptions{Inventory: inv, CreateNamespace: true, DryRun: true})
	require.NoError(t, err)
	nsID := object.ID{Kind: "Namespace", Name: app}
	assert.Equal(t, apply.Created, event(t, res, nsID).Action)
	assert.True(t, event(t, res, nsID).DryRun)
	assert.Equal(t, apply.Skipped, actions(res)["cfg"])
	_, err = e.dyn.Resource(namespaces).Get(ctx, app, metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "a dry run created the namespace: %v", err)

	// On: created by our field manager, the object applied, the namespace not a member.
	res = e.apply(objs, apply.ApplyOptions{Inventory: inv, CreateNamespace: true, Prune: true})
	assert.Equal(t, apply.Created, event(t, res, nsID).Action)
	assert.Equal(t, apply.Created, actions(res)["cfg"])
	_, err = e.dyn.Resource(namespaces).Get(ctx, app, metav1.GetOptions{})
	require.NoError(t, err)
	members, err := inv.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"cfg"}, names(members))

	// Once it exists nothing more is reported, and pruning the set leaves it.
	res = e.apply(objs, apply.ApplyOptions{Inventory: inv, CreateNamespace: true, Prune: true})
	assert.NotContains(t, actions(res), app)
	res = e.apply(nil, apply.ApplyOptions{Inventory: inv, CreateNamespace: true, Prune: true, AllowEmpty: true})
	assert.Equal(t, apply.Pruned, actions(res)["cfg"])
	assert.False(t, e.deleted(namespaces, app), "a created namespace was pruned")
}

func TestCreateNamespaceDeclaredInSet(t *testing.T) {
	e := newEnv(t, apply.Options{})
	app := e.unique("declared")
	objs := e.objects(e.namespace(app) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: " + app + "}\n")
	res := e.apply(objs, apply.ApplyOptions{CreateNamespace: true})
	// Applied once, as the set's own object, not created on the side.
	assert.Len(t, res.Events, 2)
	assert.Equal(t, apply.Created, actions(res)[app])
}

func TestCreateNamespaceInventoryParent(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ctx := context.Background()
	home := e.missingNamespace("inv")
	inv, err := e.m.ApplySet(object.ID{Kind: "Secret", Namespace: home, Name: "set"}, apply.ApplySetOptions{})
	require.NoError(t, err)
	objs := e.objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: NS}\n")

	_, err = e.m.Apply(ctx, objs, apply.ApplyOptions{Inventory: inv})
	require.Error(t, err)
	parent := object.ID{Kind: "Secret", Namespace: home, Name: "set"}
	assert.ErrorContains(t, err, `namespace "`+home+`" of `+parent.String()+` does not exist`)
	assert.ErrorContains(t, err, "CreateNamespace")
	_, err = e.get(configMaps, "cfg")
	assert.True(t, apierrors.IsNotFound(err), "an object was applied before its inventory could record it: %v", err)

	res := e.apply(objs, apply.ApplyOptions{Inventory: inv, CreateNamespace: true})
	assert.Equal(t, apply.Created, event(t, res, object.ID{Kind: "Namespace", Name: home}).Action)
	members, err := inv.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"cfg"}, names(members))
}
