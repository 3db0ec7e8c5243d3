package health

import (
	"testing"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/health"
)

// BenchmarkAssess assesses 10,000 objects per iteration with gitopskit, gitopskit
// with CEL rules and kstatus, side by side, and reports each one's time and the
// ratios.
func BenchmarkAssess(b *testing.B) {
	tools, err := workload.Assessors()
	if err != nil {
		b.Fatal(err)
	}
	t := workload.BenchAssess(b, tools)
	b.ReportMetric(float64(t["kstatus"])/float64(t["gitopskit"]), "x-faster-than-kstatus")
	b.ReportMetric(float64(t["kstatus"])/float64(t["gitopskit+CEL"]), "x-faster-than-kstatus-with-CEL")
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
