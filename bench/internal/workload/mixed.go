package workload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/health"
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

// recorded reads the objects under health/testdata/recorded, found from this
// source file's place in the repository.
func recorded() ([]*unstructured.Unstructured, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, errors.New("workload: cannot locate the repository")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "health", "testdata", "recorded")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("workload: no recorded objects in %s", dir)
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
