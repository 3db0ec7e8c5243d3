package gitopsengine

import (
	"context"
	"sync"
	"testing"
	"time"

	gediff "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/diff"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// pairs is the diff workload with everything both tools need: gitopskit's differs,
// the live objects in the order of the desired ones, and gitops-engine's options.
type pairs struct {
	set             *workload.DiffSet
	live            []*unstructured.Unstructured
	server, offline *diff.Differ
	cfg             *rest.Config
}

var (
	once     sync.Once
	shared   *pairs
	setupErr error
)

// setup builds the workload once per test binary, in a namespace of the shared
// cluster.
func setup(tb testing.TB) *pairs {
	once.Do(func() {
		cfg := cluster.Config(tb)
		ns := cluster.NewNamespace(tb)
		ctx := context.Background()
		p := &pairs{cfg: cfg}
		if p.set, setupErr = workload.NewDiffSet(ctx, cfg, ns); setupErr != nil {
			return
		}
		if p.live, setupErr = p.set.Paired(); setupErr != nil {
			return
		}
		if p.server, p.offline, setupErr = p.set.Differs(ctx, cfg, 1, 1); setupErr != nil {
			return
		}
		shared = p
	})
	if shared == nil {
		tb.Fatalf("workload setup failed: %v", setupErr)
	}
	return shared
}

// score counts the false positives and negatives of gitops-engine's modified pairs.
func (p *pairs) score(modified map[int]bool) (fp, fn int) {
	for i, u := range p.set.Desired {
		changed := p.set.Changed.Has(object.IDOf(u))
		switch {
		case modified[i] && !changed:
			fp++
		case !modified[i] && changed:
			fn++
		}
	}
	return fp, fn
}

// compare runs the pairs through gitopskit's differ d (one worker) and gitops-engine
// with opts in the same iterations, and reports each one's time per object, false
// positives and negatives, and how many times faster gitopskit is.
func compare(b *testing.B, d *diff.Differ, opts []gediff.Option) {
	p := setup(b)
	ctx := context.Background()
	var (
		gk, ge   time.Duration
		plan     *diff.Plan
		modified map[int]bool
		err      error
	)
	for b.Loop() {
		start := time.Now()
		if plan, err = d.Plan(ctx, diff.Input{Desired: p.set.Desired, Live: p.set.Live}); setupErr != nil {
			b.Fatal(err)
		}
		gk += time.Since(start)

		start = time.Now()
		if modified, err = geDiff(ctx, p.set.Desired, p.live, opts); setupErr != nil {
			b.Fatal(err)
		}
		ge += time.Since(start)
	}
	objects := float64(b.N * len(p.set.Desired))
	gkFP, gkFN := p.set.Score(plan)
	geFP, geFN := p.score(modified)
	b.ReportMetric(float64(gk.Nanoseconds())/objects, "gitopskit-ns/object")
	b.ReportMetric(float64(ge.Nanoseconds())/objects, "gitops-engine-ns/object")
	b.ReportMetric(float64(ge)/float64(gk), "x-faster")
	b.ReportMetric(float64(gkFP), "gitopskit-false-positives")
	b.ReportMetric(float64(gkFN), "gitopskit-false-negatives")
	b.ReportMetric(float64(geFP), "gitops-engine-false-positives")
	b.ReportMetric(float64(geFN), "gitops-engine-false-negatives")
	b.ReportMetric(float64(len(p.set.Changed)), "real-changes")
}

// BenchmarkDiff compares the offline diffs: gitopskit's offline engine (structured
// merge typed by the cluster's OpenAPI v3 schemas) and gitops-engine's client-side
// diff (a strategic merge patch of desired onto live with scheme defaults; a two-way
// diff here, as server-side-applied objects carry no last-applied annotation).
func BenchmarkDiff(b *testing.B) {
	p := setup(b)
	opts, err := geOptions(p.cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	compare(b, p.offline, opts)
}

// BenchmarkServerDiff compares the server-side diffs: a dry-run apply per pair, one
// at a time, then gitopskit's comparison or gitops-engine's (which also removes
// fields other managers own, as Argo CD does by default).
func BenchmarkServerDiff(b *testing.B) {
	p := setup(b)
	opts, err := geOptions(p.cfg, true)
	if err != nil {
		b.Fatal(err)
	}
	compare(b, p.server, opts)
}
