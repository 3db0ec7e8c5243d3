package gitopsengine

import (
	"context"
	"testing"

	gehealth "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

// TestDiffAgree checks the diff workload and what each tool finds changed in it:
// gitopskit's offline engine and gitops-engine's server-side diff find exactly the
// real changes; gitops-engine's client-side diff finds all but the keys removed from
// desired ConfigMaps, which a two-way diff cannot see (without kubectl's
// last-applied annotation, a field only live has looks like one another manager
// added).
func TestDiffAgree(t *testing.T) {
	p := setup(t)
	if len(p.set.Desired) != workload.DiffPairs || len(p.set.Changed) != workload.DiffPairs/10 {
		t.Fatalf("%d pairs, %d changed; want %d and %d", len(p.set.Desired), len(p.set.Changed), workload.DiffPairs, workload.DiffPairs/10)
	}
	ctx := context.Background()
	plan, err := p.offline.Plan(ctx, diff.Input{Desired: p.set.Desired, Live: p.set.Live})
	if err != nil {
		t.Fatal(err)
	}
	if fp, fn := p.set.Score(plan); fp+fn != 0 {
		t.Errorf("gitopskit: %d false positives, %d false negatives", fp, fn)
	}
	for _, server := range []bool{false, true} {
		opts, err := geOptions(p.cfg, server)
		if err != nil {
			t.Fatal(err)
		}
		modified, err := geDiff(ctx, p.set.Desired, p.live, opts)
		if err != nil {
			t.Fatal(err)
		}
		misses := 0
		for i, u := range p.set.Desired {
			id := object.IDOf(u)
			want := p.set.Changed.Has(id)
			if want && !server && removedFromDesired(u, p.live[i]) {
				want = false
				misses++
			}
			if modified[i] != want {
				t.Errorf("gitops-engine (server-side %v): %s modified=%v, want %v", server, id, modified[i], want)
			}
		}
		if !server && misses == 0 {
			t.Error("no desired ConfigMap lost a key: the workload changed")
		}
	}
}

// removedFromDesired tells whether desired is a ConfigMap that lacks a key live has.
func removedFromDesired(desired, live *unstructured.Unstructured) bool {
	if desired.GetKind() != "ConfigMap" {
		return false
	}
	d, _, _ := unstructured.NestedStringMap(desired.Object, "data")
	l, _, _ := unstructured.NestedStringMap(live.Object, "data")
	for k := range l {
		if _, ok := d[k]; !ok {
			return true
		}
	}
	return false
}

// TestHealthAgree checks the health workload and that, on every object gitops-engine
// has a health check for, it tells the same code as gitopskit. (It has none for
// CRDs, CronJobs, Namespaces, PodDisruptionBudgets and custom resources, which
// gitopskit assesses.)
func TestHealthAgree(t *testing.T) {
	objs, err := workload.Mixed(60)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, o := range objs {
		ge, err := gehealth.GetResourceHealth(o, nil)
		if err != nil {
			t.Errorf("gitops-engine: %s: %v", object.IDOf(o), err)
			continue
		}
		if ge == nil {
			continue
		}
		compared++
		if gk := health.Assess(o); string(gk.Code) != string(ge.Status) {
			t.Errorf("%s: gitopskit %s (%s), gitops-engine %s (%s)", object.IDOf(o), gk.Code, gk.Message, ge.Status, ge.Message)
		}
	}
	if compared < len(objs)/2 {
		t.Errorf("gitops-engine assessed %d of %d objects; want at least half", compared, len(objs))
	}
}
