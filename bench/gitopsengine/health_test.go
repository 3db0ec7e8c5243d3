package gitopsengine

import (
	"testing"

	gehealth "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
)

// BenchmarkAssess assesses 10,000 objects per iteration with gitopskit, gitopskit
// with CEL rules, kstatus and gitops-engine (health.GetResourceHealth without
// overrides, as Argo CD calls it when no Lua check matches), side by side, and
// reports each one's time per 10,000 and gitopskit's ratio to the faster of
// gitops-engine and kstatus.
func BenchmarkAssess(b *testing.B) {
	tools, err := workload.Assessors()
	if err != nil {
		b.Fatal(err)
	}
	tools = append(tools, workload.Assessor{Name: "gitops-engine", Assess: func(o *unstructured.Unstructured) error {
		_, err := gehealth.GetResourceHealth(o, nil)
		return err
	}})
	t := workload.BenchAssess(b, tools)
	fastest := min(t["gitops-engine"], t["kstatus"])
	b.ReportMetric(float64(fastest)/float64(t["gitopskit"]), "x-faster-than-fastest")
	b.ReportMetric(float64(fastest)/float64(t["gitopskit+CEL"]), "x-faster-than-fastest-with-CEL")
	b.ReportMetric(float64(t["gitops-engine"])/float64(t["gitopskit"]), "x-faster-than-gitops-engine")
	b.ReportMetric(float64(t["kstatus"])/float64(t["gitopskit"]), "x-faster-than-kstatus")
}
