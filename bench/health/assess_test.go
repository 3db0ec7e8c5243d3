package health

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// mixed returns n objects cycling through the statuses the health package's cluster
// tests recorded from a real cluster (every built-in kind, healthy and not), plus
// custom resources with kstatus conditions.
func mixed(tb testing.TB, n int) []*unstructured.Unstructured {
	files, err := filepath.Glob(filepath.Join("..", "..", "health", "testdata", "recorded", "*.yaml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no recorded objects: %v", err)
	}
	var base []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var r struct {
			Object map[string]any `json:"object"`
		}
		if err := yaml.Unmarshal(data, &r); err != nil {
			tb.Fatal(err)
		}
		base = append(base, decode(tb, r.Object))
	}
	for i, phase := range []string{"Ready", "Starting", "Ready", "Failed"} {
		base = append(base, decode(tb, map[string]any{
			"apiVersion": "example.com/v1", "kind": "Gadget",
			"metadata": map[string]any{"name": fmt.Sprintf("g%d", i), "namespace": "bench", "generation": 2},
			"status": map[string]any{"observedGeneration": 2, "phase": phase, "conditions": []any{
				map[string]any{"type": "Ready", "status": map[bool]string{true: "True", false: "False"}[phase == "Ready"], "reason": phase},
			}},
		}))
	}
	objs := make([]*unstructured.Unstructured, n)
	for i := range objs {
		o := base[i%len(base)].DeepCopy()
		o.SetName(fmt.Sprintf("%s-%d", o.GetName(), i))
		objs[i] = o
	}
	return objs
}

// decode gives the object the number types a client gets from the API server.
func decode(tb testing.TB, m map[string]any) *unstructured.Unstructured {
	js, err := yaml.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	js, err = yaml.YAMLToJSON(js)
	if err != nil {
		tb.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		tb.Fatal(err)
	}
	return u
}

// celRules assess the Gadgets, and run on every Deployment before falling through to
// the built-in rule, so that both paths cost their share.
var celRules = []health.CELRule{
	{Name: "gadget", Group: "example.com", Kind: "Gadget", Expression: `
		object.status.phase == "Ready" ? {"code": "Healthy", "message": "ready"} :
		object.status.phase == "Failed" ? {"code": "Degraded", "message": object.status.conditions[0].reason} :
		{"code": "Progressing", "message": "phase " + object.status.phase}`},
	{Name: "deployment-annotation", Group: "apps", Kind: "Deployment", Expression: `
		has(object.metadata.annotations) && "example.com/skip" in object.metadata.annotations
			? {"code": "Healthy", "message": "skipped"} : {}`},
}

// BenchmarkAssess assesses 10,000 objects per iteration with gitopskit, gitopskit
// with CEL rules and kstatus, side by side, and reports each one's time and the
// ratios.
func BenchmarkAssess(b *testing.B) {
	objs := mixed(b, 10_000)
	withCEL, err := health.NewAssessor(health.Options{CELRules: celRules})
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
	seen := map[health.Code]int{}
	for _, o := range mixed(t, 100) {
		seen[health.Assess(o).Code]++
	}
	for _, c := range []health.Code{health.Healthy, health.Progressing, health.Degraded, health.Suspended} {
		if seen[c] == 0 {
			t.Errorf("no %s object in the mix: %v", c, seen)
		}
	}
}
