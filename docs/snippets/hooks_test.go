package snippets

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

// snippet: apply-hooks
// SyncHooks applies objs as the set of inventory, with the Argo CD and Helm hooks
// among them run in their phases, and prints what each hook did.
func SyncHooks(ctx context.Context, m *apply.Manager, inventory apply.Inventory, waiter *health.Waiter, objs []*unstructured.Unstructured) (*apply.Result, error) {
	res, err := m.Apply(ctx, objs, apply.ApplyOptions{
		Inventory: inventory,
		Prune:     true,
		Hooks:     true, // hooks are never members: not in the inventory, never pruned
		// A hook succeeded once healthy (a Job complete, a Pod succeeded); it
		// failed once Degraded (a Job failed), or when the timeout passes.
		HookGate: waiter.Gate(health.WaitOptions{Timeout: 5 * time.Minute, FailFast: true}),
	})
	for _, h := range res.Hooks() { // also after a failure: which hooks ran, and how
		fmt.Printf("%s %s ran=%v %s deleted=%v %s\n", h.Phase, h.ID.KubectlString(), h.Ran, h.Outcome, h.Deleted, h.Reason)
	}
	return res, err // a failed PreSync hook: nothing applied, nothing pruned, SyncFail hooks ran
}

// end snippet

// TestSyncHooks runs hooks that are ConfigMaps, healthy once they exist, so that the
// cluster needs no nodes.
func TestSyncHooks(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	cm := func(name, ann string) *unstructured.Unstructured {
		return mustYAML("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + ", annotations: {" + ann + "}}\n")
	}
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "my-tool"})
	if err != nil {
		t.Fatal(err)
	}
	inventory, err := m.ApplySet(object.ID{Kind: "Secret", Namespace: ns, Name: "app"}, apply.ApplySetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waiter, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := SyncHooks(context.Background(), m, inventory, waiter, []*unstructured.Unstructured{
		cm("before", "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded"),
		cm("app", ""),
		cm("after", "helm.sh/hook: post-install"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hooks() {
		got = append(got, fmt.Sprintf("%s %s %s %v", h.Phase, h.ID.Name, h.Outcome, h.Deleted))
	}
	if want := "PreSync before succeeded true,PostSync after succeeded false"; strings.Join(got, ",") != want {
		t.Errorf("hooks: %v, want %s", got, want)
	}
	if n := res.Count(apply.Created); n != 3 {
		t.Errorf("%d created, want 3 (two hooks, one member): %+v", n, res.Events)
	}
}
