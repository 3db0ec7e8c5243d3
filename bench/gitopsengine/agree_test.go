package gitopsengine

import (
	"context"
	"testing"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

// TestDiffAgree checks the diff workload and that gitopskit's offline engine and
// gitops-engine's diff see the same changes in it.
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
	opts, err := geOptions(p.cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	modified, err := geDiff(ctx, p.set.Desired, p.live, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range p.set.Desired {
		id := object.IDOf(u)
		if modified[i] != p.set.Changed.Has(id) {
			t.Errorf("%s: gitops-engine modified=%v, real change=%v", id, modified[i], p.set.Changed.Has(id))
		}
	}
}
