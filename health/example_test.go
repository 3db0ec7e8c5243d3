package health_test

import (
	"fmt"

	"github.com/gitopskit/gitopskit/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func ExampleAssess() {
	deployment := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "web", "generation": int64(2)},
		"spec":       map[string]any{"replicas": int64(3)},
		"status": map[string]any{
			"observedGeneration": int64(2),
			"replicas":           int64(4),
			"updatedReplicas":    int64(2),
			"availableReplicas":  int64(3),
		},
	}}
	fmt.Println(health.Assess(deployment))

	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": "migrate"},
		"status": map[string]any{"conditions": []any{map[string]any{
			"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
			"message": "Job has reached the specified backoff limit",
		}}},
	}}
	fmt.Println(health.Assess(job))
	// Output:
	// Progressing: waiting for rollout: 2 of 3 replicas updated
	// Degraded: Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit
}

func ExampleNewAssessor() {
	assessor, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{
		Name:  "widget-phase",
		Group: "example.com",
		Kind:  "Widget",
		Expression: `object.?status.?phase.orValue("") == "Ready"
			? {"code": "Healthy", "message": "ready"}
			: {"code": "Progressing", "message": "waiting for phase Ready"}`,
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	widget := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": "w"},
		"status":     map[string]any{"phase": "Ready"},
	}}
	fmt.Println(assessor.Assess(widget))

	_, err = health.NewAssessor(health.Options{CELRules: []health.CELRule{{
		Name: "broken", Group: "example.com", Kind: "Widget", Expression: `"Healthy"`,
	}}})
	fmt.Println(err)
	// Output:
	// Healthy: ready
	// invalid health rule "broken" (example.com/Widget): returns string, want a map {"code": ..., "message": ...} or null
}

func ExampleLibraryRules() {
	for _, r := range health.LibraryRules() {
		if r.Group == "cert-manager.io" {
			fmt.Println(r.Name, r.Kind)
		}
	}
	// Output:
	// cert-manager/certificate Certificate
	// cert-manager/certificaterequest CertificateRequest
	// cert-manager/issuer Issuer
	// cert-manager/issuer ClusterIssuer
}
