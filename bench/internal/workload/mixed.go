package workload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

// Mixed returns n objects cycling through the statuses the health package's cluster
// tests recorded from a real cluster (health/testdata/recorded: every built-in kind,
// healthy and not), plus Gadgets, custom resources with kstatus conditions. Each
// object gets its own name.
func Mixed(n int) ([]*unstructured.Unstructured, error) {
	base, err := recorded()
	if err != nil {
		return nil, err
	}
	for i, phase := range []string{"Ready", "Starting", "Ready", "Failed"} {
		ready := "False"
		if phase == "Ready" {
			ready = "True"
		}
		g, err := decode(map[string]any{
			"apiVersion": "example.com/v1", "kind": "Gadget",
			"metadata": map[string]any{"name": fmt.Sprintf("g%d", i), "namespace": "bench", "generation": 2},
			"status": map[string]any{"observedGeneration": 2, "phase": phase, "conditions": []any{
				map[string]any{"type": "Ready", "status": ready, "reason": phase},
			}},
		})
		if err != nil {
			return nil, err
		}
		base = append(base, g)
	}
	objs := make([]*unstructured.Unstructured, n)
	for i := range objs {
		o := base[i%len(base)].DeepCopy()
		o.SetName(fmt.Sprintf("%s-%d", o.GetName(), i))
		objs[i] = o
	}
	return objs, nil
}

// Library returns n objects cycling through the fixtures of the health package's
// rule library (health/testdata/rules: custom resources of cert-manager, Flux,
// Argo, Crossplane and the other projects it knows, healthy and not). Each object
// gets its own name.
func Library(n int) ([]*unstructured.Unstructured, error) {
	base, err := healthTestdata("rules", "*", "*", "*.yaml")
	if err != nil {
		return nil, err
	}
	objs := make([]*unstructured.Unstructured, n)
	for i := range objs {
		o := base[i%len(base)].DeepCopy()
		o.SetName(fmt.Sprintf("%s-%d", o.GetName(), i))
		objs[i] = o
	}
	return objs, nil
}

// recorded reads the objects under health/testdata/recorded.
func recorded() ([]*unstructured.Unstructured, error) {
	return healthTestdata("recorded", "*.yaml")
}

// healthTestdata reads the objects of the files that match pattern under
// health/testdata, found from this source file's place in the repository: each
// file holds the object under the key "object".
func healthTestdata(pattern ...string) ([]*unstructured.Unstructured, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("workload: cannot locate the repository")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "health", "testdata")
	files, err := filepath.Glob(filepath.Join(append([]string{dir}, pattern...)...))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("workload: no objects in %s", filepath.Join(append([]string{dir}, pattern...)...))
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r struct {
			Object map[string]any `json:"object"`
		}
		if err := yaml.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		u, err := decode(r.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// decode gives the object the number types a client gets from the API server.
func decode(m map[string]any) (*unstructured.Unstructured, error) {
	js, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	if js, err = yaml.YAMLToJSON(js); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, err
	}
	return u, nil
}

// CELRules assess the Gadgets, and run on every Deployment before falling through to
// the built-in rule, so that both paths cost their share.
func CELRules() []health.CELRule {
	return []health.CELRule{
		{Name: "gadget", Group: "example.com", Kind: "Gadget", Expression: `
		object.status.phase == "Ready" ? {"code": "Healthy", "message": "ready"} :
		object.status.phase == "Failed" ? {"code": "Degraded", "message": object.status.conditions[0].reason} :
		{"code": "Progressing", "message": "phase " + object.status.phase}`},
		{Name: "deployment-annotation", Group: "apps", Kind: "Deployment", Expression: `
		has(object.metadata.annotations) && "example.com/skip" in object.metadata.annotations
			? {"code": "Healthy", "message": "skipped"} : {}`},
	}
}

// Assessor is one tool's health assessment, named for the benchmark's metrics.
type Assessor struct {
	Name   string
	Assess func(*unstructured.Unstructured) error
}

// Assessors returns the assessors every health benchmark runs: "gitopskit"
// ([health.Assess]), "gitopskit+CEL" (an [health.Assessor] with [CELRules]) and
// "kstatus" (sigs.k8s.io/cli-utils's status.Compute).
func Assessors() ([]Assessor, error) {
	withCEL, err := health.NewAssessor(health.Options{CELRules: CELRules()})
	if err != nil {
		return nil, err
	}
	return []Assessor{
		{Name: "gitopskit", Assess: func(o *unstructured.Unstructured) error { health.Assess(o); return nil }},
		{Name: "gitopskit+CEL", Assess: func(o *unstructured.Unstructured) error { withCEL.Assess(o); return nil }},
		{Name: "kstatus", Assess: func(o *unstructured.Unstructured) error { _, err := status.Compute(o); return err }},
	}, nil
}

// BenchAssess runs every assessor over the same 10,000 [Mixed] objects in each
// iteration of b, reports each one's time per 10,000 as "<name>-µs/10k" and returns
// the total time of each by name, for the caller's ratios.
func BenchAssess(b *testing.B, assessors []Assessor) map[string]time.Duration {
	objs, err := Mixed(10_000)
	if err != nil {
		b.Fatal(err)
	}
	totals := map[string]time.Duration{}
	for b.Loop() {
		if err := TimeAll(objs, assessors, totals); err != nil {
			b.Fatal(err)
		}
	}
	for _, a := range assessors {
		b.ReportMetric(float64(totals[a.Name].Microseconds())/float64(b.N), a.Name+"-µs/10k")
	}
	return totals
}

// TimeAll runs each assessor over all of objs in turn and adds the time it took to
// totals[its name]. It stops at the first error.
func TimeAll(objs []*unstructured.Unstructured, assessors []Assessor, totals map[string]time.Duration) error {
	for _, a := range assessors {
		start := time.Now()
		for _, o := range objs {
			if err := a.Assess(o); err != nil {
				return fmt.Errorf("%s: %s: %w", a.Name, object.IDOf(o), err)
			}
		}
		totals[a.Name] += time.Since(start)
	}
	return nil
}
