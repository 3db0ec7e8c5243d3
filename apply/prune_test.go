package apply_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// configMapSet returns ConfigMaps named prefix-0..n-1 in NS.
func configMapSet(prefix string, from, to int, extra string) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s-%d, namespace: NS%s}\ndata: {i: \"%d\"}\n", prefix, i, extra, i)
	}
	return b.String()
}

func TestPruneAfterAnObjectLeaves(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	set := configMapSet("cm", 0, 3, "") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: NS, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}\n"
	e.apply(e.objects(set), apply.ApplyOptions{Inventory: inv, Prune: true})
	members, err := inv.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"cm-0", "cm-1", "cm-2", "kept"}, names(members))
	cm, err := e.get(configMaps, "cm-0")
	require.NoError(t, err)
	assert.Equal(t, inv.ID(), cm.GetLabels()[apply.ApplySetPartOfLabel])

	// cm-2 lost its membership label by hand: it must survive.
	_, err = e.dyn.Resource(configMaps).Namespace(e.ns).Patch(context.Background(), "cm-2", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"applyset.kubernetes.io/part-of":null}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	res := e.apply(e.objects(configMapSet("cm", 0, 1, "")), apply.ApplyOptions{Inventory: inv, Prune: true, PruneWait: 10e9})
	assert.Equal(t, map[string]apply.Action{"cm-0": apply.Unchanged, "cm-1": apply.Pruned, "kept": apply.Skipped}, actions(res))
	for name, gone := range map[string]bool{"cm-0": false, "cm-1": true, "cm-2": false, "kept": false} {
		_, err := e.get(configMaps, name)
		assert.Equal(t, gone, apierrors.IsNotFound(err), "%s: %v", name, err)
	}
	members, err = inv.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"cm-0", "kept"}, names(members), "kept stays labelled; cm-2 is no longer a member")
}

func TestPruneRefusesEmptySet(t *testing.T) {
	e := newEnv(t, apply.Options{})
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	e.apply(e.objects(configMapSet("cm", 0, 2, "")), apply.ApplyOptions{Inventory: inv, Prune: true})

	_, err := e.m.Apply(context.Background(), nil, apply.ApplyOptions{Inventory: inv, Prune: true})
	require.ErrorIs(t, err, apply.ErrEmptySet)
	_, err = e.get(configMaps, "cm-0")
	require.NoError(t, err, "nothing was pruned")

	res := e.apply(nil, apply.ApplyOptions{Inventory: inv, Prune: true, AllowEmpty: true})
	assert.Equal(t, 2, res.Count(apply.Pruned))
}

func TestPruneNeverCrossesApplySets(t *testing.T) {
	e := newEnv(t, apply.Options{})
	ours := e.applySet("ours", apply.ApplySetOptions{})
	theirs := e.applySet("theirs", apply.ApplySetOptions{})
	e.apply(e.objects(configMapSet("ours", 0, 2, "")), apply.ApplyOptions{Inventory: ours, Prune: true})
	e.apply(e.objects(configMapSet("theirs", 0, 2, "")), apply.ApplyOptions{Inventory: theirs, Prune: true})

	// Pruning our whole set leaves theirs alone.
	res := e.apply(nil, apply.ApplyOptions{Inventory: ours, Prune: true, AllowEmpty: true})
	assert.Equal(t, map[string]apply.Action{"ours-0": apply.Pruned, "ours-1": apply.Pruned}, actions(res))
	for _, name := range []string{"theirs-0", "theirs-1"} {
		_, err := e.get(configMaps, name)
		assert.NoError(t, err, name)
	}

	// Applying one of their objects in our set is refused, not taken over.
	_, err := e.m.Apply(context.Background(), e.objects(configMapSet("theirs", 0, 1, "")), apply.ApplyOptions{Inventory: ours, Prune: true})
	var owned *apply.OwnershipError
	require.ErrorAs(t, err, &owned)
	assert.Equal(t, theirs.ID(), owned.Owner)
	cm, err := e.get(configMaps, "theirs-0")
	require.NoError(t, err)
	assert.Equal(t, theirs.ID(), cm.GetLabels()[apply.ApplySetPartOfLabel])
	members, err := theirs.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"theirs-0", "theirs-1"}, names(members))
}

func TestInterruptedApplyResumesWithoutWrongPrunes(t *testing.T) {
	e := newEnv(t, apply.Options{Concurrency: 2})
	inv := e.applySet("inventory", apply.ApplySetOptions{})
	e.apply(e.objects(configMapSet("old", 0, 40, "")), apply.ApplyOptions{Inventory: inv, Prune: true})

	// The new set keeps old-0..19, drops old-20..39 and adds new-0..39 in a later
	// wave. The apply is cut off after a few objects.
	next := configMapSet("old", 0, 20, "") + configMapSet("new", 0, 40, ", annotations: {gitopskit.io/wave: \"1\"}")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := e.m.Apply(ctx, e.objects(next), apply.ApplyOptions{Inventory: inv, Prune: true, OnEvent: func(ev apply.Event) {
		if n++; n == 25 {
			cancel()
		}
	}})
	require.Error(t, err)
	for i := 0; i < 40; i++ {
		_, err := e.get(configMaps, fmt.Sprintf("old-%d", i))
		require.NoError(t, err, "nothing is pruned after a failed apply")
	}
	members, err := inv.Load(context.Background())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(members), 40)

	res := e.apply(e.objects(next), apply.ApplyOptions{Inventory: inv, Prune: true})
	assert.Equal(t, 20, res.Count(apply.Pruned), "%v", res.Summary())
	l, err := e.dyn.Resource(configMaps).Namespace(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: apply.ApplySetPartOfLabel + "=" + inv.ID()})
	require.NoError(t, err)
	var got []object.ID
	for i := range l.Items {
		got = append(got, object.IDOf(&l.Items[i]))
	}
	want := e.objects(next)
	assert.Len(t, got, len(want))
	for _, o := range want {
		assert.Contains(t, got, object.IDOf(o))
	}
}

// TestKubectlAgreesOnApplySet checks both directions: kubectl's ApplySet id for the
// same parent is ours and we read its members; and kubectl, pruning our set, sees
// the members we do.
func TestKubectlAgreesOnApplySet(t *testing.T) {
	e := newEnv(t, apply.Options{})
	bin := kubectl(t)
	kubeconfig := cluster.KubeconfigPath(t)
	run := func(manifests string, args ...string) string {
		t.Helper()
		file := filepath.Join(t.TempDir(), "set.yaml")
		require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(manifests, "NS", e.ns)), 0o600))
		cmd := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig, "-n", e.ns, "-f", file}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECTL_APPLYSET=true")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}

	// kubectl's set, read by us.
	run(configMapSet("k", 0, 3, ""), "apply", "--server-side", "--prune", "--applyset=kset")
	theirs := e.applySet("kset", apply.ApplySetOptions{Tooling: "kubectl/" + "v1.37.2"})
	parent, err := e.get(secretsGVR, "kset")
	require.NoError(t, err)
	assert.Equal(t, parent.GetLabels()[apply.ApplySetIDLabel], theirs.ID(), "the same id for the same parent")
	members, err := theirs.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"k-0", "k-1", "k-2"}, names(members))

	// Our set (with kubectl's tooling name, which kubectl insists on), pruned by kubectl.
	ours := e.applySet("gset", apply.ApplySetOptions{Tooling: "kubectl/v1.37.2"})
	set := configMapSet("g", 0, 3, "") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: g, namespace: NS}\nspec: {ports: [{port: 80}]}\n"
	e.apply(e.objects(set), apply.ApplyOptions{Inventory: ours, Prune: true})
	out := run(configMapSet("g", 0, 1, ""), "apply", "--server-side", "--prune", "--applyset=gset", "--dry-run=server")
	var pruned []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "pruned") {
			pruned = append(pruned, strings.Fields(line)[0])
		}
	}
	assert.ElementsMatch(t, []string{"configmap/g-1", "configmap/g-2", "service/g"}, pruned, "%s", out)

	res := e.apply(e.objects(configMapSet("g", 0, 1, "")), apply.ApplyOptions{Inventory: ours, Prune: true, DryRun: true})
	var ourPruned []string
	for _, ev := range res.Events {
		if ev.Action == apply.Pruned {
			ourPruned = append(ourPruned, strings.ToLower(ev.ID.Kind)+"/"+ev.ID.Name)
		}
	}
	assert.ElementsMatch(t, pruned, ourPruned)
}
