package health

import (
	"testing"
	"time"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/health"
)

// BenchmarkAssess assesses 10,000 objects per iteration with gitopskit, gitopskit
// with CEL rules and kstatus, side by side, and reports each one's time and the
// ratios.
func BenchmarkAssess(b *testing.B) {
	objs, err := workload.Mixed(10_000)
	if err != nil {
		b.Fatal(err)
	}
	withCEL, err := health.NewAssessor(health.Options{CELRules: workload.CELRules()})
	if err != nil {
		b.Fatal(err)
	}
	var gk, gkCEL, ks time.Duration
	for b.Loop() {
		start := time.Now()
		for _, o := range objs {
			health.Assess(o)
		}
		gk += time.Since(start)

		start = time.Now()
		for _, o := range objs {
			withCEL.Assess(o)
		}
		gkCEL += time.Since(start)

		start = time.Now()
		for _, o := range objs {
			if _, err := status.Compute(o); err != nil {
				b.Fatal(err)
			}
		}
		ks += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(gk.Microseconds())/n, "gitopskit-µs/10k")
	b.ReportMetric(float64(gkCEL.Microseconds())/n, "gitopskit+CEL-µs/10k")
	b.ReportMetric(float64(ks.Microseconds())/n, "kstatus-µs/10k")
	b.ReportMetric(float64(ks)/float64(gk), "x-faster-than-kstatus")
	b.ReportMetric(float64(ks)/float64(gkCEL), "x-faster-than-kstatus-with-CEL")
}

// TestWorkload checks that the benchmark's mix covers every code but Missing.
func TestWorkload(t *testing.T) {
	objs, err := workload.Mixed(100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[health.Code]int{}
	for _, o := range objs {
		seen[health.Assess(o).Code]++
	}
	for _, c := range []health.Code{health.Healthy, health.Progressing, health.Degraded, health.Suspended} {
		if seen[c] == 0 {
			t.Errorf("no %s object in the mix: %v", c, seen)
		}
	}
}
