package gitopsengine

import (
	"testing"
	"time"

	gehealth "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/health"
)

// BenchmarkAssess assesses 10,000 objects per iteration with gitopskit, gitopskit
// with CEL rules, gitops-engine and kstatus, side by side, and reports each one's
// time per 10,000 and gitopskit's ratio to the faster of the other two.
func BenchmarkAssess(b *testing.B) {
	objs, err := workload.Mixed(10_000)
	if err != nil {
		b.Fatal(err)
	}
	withCEL, err := health.NewAssessor(health.Options{CELRules: workload.CELRules()})
	if err != nil {
		b.Fatal(err)
	}
	var gk, gkCEL, ge, ks time.Duration
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
			if _, err := gehealth.GetResourceHealth(o, nil); err != nil {
				b.Fatal(err)
			}
		}
		ge += time.Since(start)

		start = time.Now()
		for _, o := range objs {
			if _, err := status.Compute(o); err != nil {
				b.Fatal(err)
			}
		}
		ks += time.Since(start)
	}
	n := float64(b.N)
	fastest := min(ge, ks)
	b.ReportMetric(float64(gk.Microseconds())/n, "gitopskit-µs/10k")
	b.ReportMetric(float64(gkCEL.Microseconds())/n, "gitopskit+CEL-µs/10k")
	b.ReportMetric(float64(ge.Microseconds())/n, "gitops-engine-µs/10k")
	b.ReportMetric(float64(ks.Microseconds())/n, "kstatus-µs/10k")
	b.ReportMetric(float64(fastest)/float64(gk), "x-faster-than-fastest")
	b.ReportMetric(float64(fastest)/float64(gkCEL), "x-faster-than-fastest-with-CEL")
	b.ReportMetric(float64(ge)/float64(gk), "x-faster-than-gitops-engine")
	b.ReportMetric(float64(ks)/float64(gk), "x-faster-than-kstatus")
}
