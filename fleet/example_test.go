package fleet_test

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/fleet"
	"github.com/gitopskit/gitopskit/reconcile"
)

// Which clusters a set goes to, and how it changes on each: every cluster of
// the prod and staging environments, with more replicas in prod.
func ExampleSpec_Select() {
	clusters := []fleet.Cluster{ // as fleet.ReadClusters returns them
		{Name: "eu-1", Labels: map[string]string{"env": "prod"}},
		{Name: "us-1", Labels: map[string]string{"env": "staging"}},
		{Name: "laptop", Labels: map[string]string{"env": "dev"}},
	}
	spec := fleet.Spec{
		Targets: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod", "staging"}},
		}}},
		Customizations: []fleet.Customization{{
			Name:            "prod",
			ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
			Namespace:       "shop-prod",
			Values:          map[string]any{"replicas": 3},
		}},
	}
	targets, err := spec.Select(clusters)
	if err != nil {
		panic(err)
	}
	base := reconcile.Options{Path: "deploy"}
	for _, t := range targets {
		opts := t.Options(base)
		fmt.Printf("%s: customization %q, namespace %q, values %v\n", t.Cluster.Name, t.Customization.Name, opts.Cluster.Namespace, opts.Render.Helm.Values)
	}
	// Output:
	// eu-1: customization "prod", namespace "shop-prod", values map[replicas:3]
	// us-1: customization "", namespace "", values map[]
}
