package snippets

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

func Example_healthAssess() {
	// snippet: health-assess
	deployment := mustYAML(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, generation: 2}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 4, updatedReplicas: 2, availableReplicas: 3}
`)
	fmt.Println(health.Assess(deployment))

	// Custom kinds: a CEL rule, compiled and type-checked once, here.
	assessor, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{
		Name: "widget-phase", Group: "example.com", Kind: "Widget",
		Expression: `object.?status.?phase.orValue("") == "Ready"
			? {"code": "Healthy", "message": "ready"}
			: {"code": "Progressing", "message": "waiting for phase Ready"}`,
	}}})
	if err != nil {
		fmt.Println(err) // names the rule that does not compile
		return
	}
	fmt.Println(assessor.Assess(mustYAML("{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}")))
	// end snippet

	// Output:
	// Progressing: waiting for rollout: 2 of 3 replicas updated
	// Progressing: waiting for phase Ready
}

func Example_healthLibrary() {
	// snippet: health-library
	assessor, err := health.NewAssessor(health.Options{
		// Leave one library rule out: Certificates follow the generic conventions.
		DisabledRules: []string{"cert-manager/certificate"},
		CELRules: []health.CELRule{
			// Replace a library rule: same name, your expression.
			{Name: "velero/operation", Group: "velero.io", Kind: "Backup",
				Expression: `object.?status.?phase.orValue("") in ["Completed", "PartiallyFailed"]
					? {"code": "Healthy", "message": "backup done"} : {}`},
			// A rule for a whole group.
			{Name: "acme-platform", Group: "*.platform.acme.io", Kind: "*",
				Expression: `object.?status.?state.orValue("") == "Broken"
					? {"code": "Degraded", "message": object.status.?reason.orValue("broken")} : {}`},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(assessor.Assess(mustYAML(`{apiVersion: velero.io/v1, kind: Backup, metadata: {name: nightly}, status: {phase: PartiallyFailed}}`)))
	fmt.Println(assessor.Assess(mustYAML(`{apiVersion: db.platform.acme.io/v1, kind: Database, metadata: {name: orders}, status: {state: Broken, reason: disk full}}`)))
	// end snippet

	// Output:
	// Healthy: backup done
	// Degraded: disk full
}

// snippet: health-wait
// WaitHealthy waits until every object of ids is Healthy (or Suspended), printing
// each change; it fails early when one is Degraded.
func WaitHealthy(ctx context.Context, cfg *rest.Config, ids []object.ID) error {
	w, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
	if err != nil {
		return err
	}
	res, err := w.Wait(ctx, ids, health.WaitOptions{ // one watch per resource type, no polling
		Timeout:  2 * time.Minute,
		FailFast: true,
		Progress: func(e health.Event) { fmt.Printf("%s: %s\n", e.ID, e.Status) },
	})
	if errors.Is(err, health.ErrTimeout) || errors.Is(err, health.ErrDegraded) {
		return fmt.Errorf("%s: %w", res.Status, err) // "Degraded: 1 of 3 objects ..."
	}
	return err
}

// end snippet

func TestWaitHealthy(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	cm := mustYAML("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later, namespace: " + ns + "}\n")
	done := make(chan error, 1)
	go func() { done <- WaitHealthy(ctx, cfg, []object.ID{object.IDOf(cm)}) }()
	// The object appears while the wait runs.
	time.Sleep(200 * time.Millisecond)
	m, err := apply.NewForConfig(cfg, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{cm}, apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the wait did not see the ConfigMap appear")
	}
	shortCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	missing := object.ID{Kind: "ConfigMap", Namespace: ns, Name: "never"}
	if err := WaitHealthy(shortCtx, cfg, []object.ID{missing}); err == nil {
		t.Error("waiting for a missing object succeeded")
	}
}
