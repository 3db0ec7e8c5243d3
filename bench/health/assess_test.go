package health

import (
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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

// BenchmarkAssessLibrary assesses 10,000 custom resources of the kinds the rule
// library knows (its fixtures: cert-manager, Flux, Argo, Crossplane...) per
// iteration, with the library (health.Assess) and without it
// (Options.DisableLibrary), and reports each one's time and the library's cost per
// object: what its CEL rules add to an assessment. Besides wall time it reports
// the process's CPU time (user and system), which other processes on a loaded
// machine disturb less.
func BenchmarkAssessLibrary(b *testing.B) {
	objs, err := workload.Library(10_000)
	if err != nil {
		b.Fatal(err)
	}
	without, err := health.NewAssessor(health.Options{DisableLibrary: true})
	if err != nil {
		b.Fatal(err)
	}
	tools := []struct {
		name   string
		assess func(*unstructured.Unstructured) health.Status
	}{{"library", health.Assess}, {"no-library", without.Assess}}
	for _, o := range objs { // compile the rules before timing
		health.Assess(o)
	}
	wall := map[string]time.Duration{}
	cpu := map[string]time.Duration{}
	for b.Loop() {
		for _, t := range tools {
			start, startCPU := time.Now(), cpuTime(b)
			for _, o := range objs {
				t.assess(o)
			}
			wall[t.name] += time.Since(start)
			cpu[t.name] += cpuTime(b) - startCPU
		}
	}
	n := float64(b.N) * float64(len(objs))
	perObject := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / n }
	b.ReportMetric(perObject(wall["library"]), "library-ns/object")
	b.ReportMetric(perObject(wall["no-library"]), "no-library-ns/object")
	b.ReportMetric(perObject(cpu["library"]), "library-cpu-ns/object")
	b.ReportMetric(perObject(cpu["no-library"]), "no-library-cpu-ns/object")
	b.ReportMetric(perObject(cpu["library"]-cpu["no-library"]), "library-cost-cpu-ns/object")
}

// cpuTime returns the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCompileLibrary compiles every rule of the library from its source, as a
// program's first assessments of each kind do (once per process for parsing and
// type-checking, once per Assessor for planning), and reports the time per rule.
func BenchmarkCompileLibrary(b *testing.B) {
	rules := health.LibraryRules()
	for b.Loop() {
		if _, err := health.NewAssessor(health.Options{CELRules: rules}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(rules)), "µs/rule")
}
