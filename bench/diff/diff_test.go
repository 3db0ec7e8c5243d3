package diff

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// bench is the benchmarks' shared state: the workload and gitopskit's two differs.
type bench struct {
	set             *workload.DiffSet
	server, offline *diff.Differ
}

var (
	once   sync.Once
	shared *bench
)

func setup(b *testing.B) *bench {
	once.Do(func() { shared = build(b) })
	if shared == nil {
		b.Fatal("workload setup failed")
	}
	return shared
}

func build(b *testing.B) *bench {
	cfg := cluster.Config(b)
	ns := cluster.NewNamespace(b)
	ctx := context.Background()
	set, err := workload.NewDiffSet(ctx, cfg, ns)
	if err != nil {
		b.Fatal(err)
	}
	w := &bench{set: set}
	if w.server, w.offline, err = set.Differs(ctx, cfg, 8, 1); err != nil {
		b.Fatal(err)
	}
	return w
}

func run(b *testing.B, d *diff.Differ, set *workload.DiffSet) (perObject time.Duration, fp, fn int) {
	ctx := context.Background()
	var p *diff.Plan
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err error
		if p, err = d.Plan(ctx, diff.Input{Desired: set.Desired, Live: set.Live}); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	fp, fn = set.Score(p)
	return elapsed / time.Duration(b.N*len(set.Desired)), fp, fn
}

// offlinePerObject is the offline engine's time per object from the last
// BenchmarkOffline run, for the server benchmark's ratio.
var offlinePerObject time.Duration

// BenchmarkOffline diffs the 1,000 pairs with the offline engine on one worker.
func BenchmarkOffline(b *testing.B) {
	w := setup(b)
	per, fp, fn := run(b, w.offline, w.set)
	offlinePerObject = per
	b.ReportMetric(float64(per.Nanoseconds()), "ns/object")
	b.ReportMetric(float64(fp), "false-positives")
	b.ReportMetric(float64(fn), "false-negatives")
	b.ReportMetric(float64(len(w.set.Changed)), "real-changes")
}

// BenchmarkServer diffs the same pairs with the server-side engine (8 dry-run
// applies in flight) and reports its time relative to the offline engine.
func BenchmarkServer(b *testing.B) {
	w := setup(b)
	per, fp, fn := run(b, w.server, w.set)
	b.ReportMetric(float64(per.Nanoseconds()), "ns/object")
	b.ReportMetric(float64(per*time.Duration(len(w.set.Desired)))/1e6, "ms/set")
	b.ReportMetric(float64(fp), "false-positives")
	b.ReportMetric(float64(fn), "false-negatives")
	if offlinePerObject > 0 {
		b.ReportMetric(float64(per)/float64(offlinePerObject), "x-slower-than-offline")
	}
}
