package snippets

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/fleet"
	"github.com/gitopskit/gitopskit/reconcile"
)

// snippet: fleet-spec
// EdgeTargets chooses the edge clusters, with more replicas in prod and the
// staging overlay in staging.
func EdgeTargets(clusters []fleet.Cluster) ([]fleet.Target, error) {
	spec := fleet.Spec{
		Targets: []metav1.LabelSelector{{MatchLabels: map[string]string{"tier": "edge"}}},
		Customizations: []fleet.Customization{
			{Name: "prod", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
				Namespace: "shop-prod", Vars: map[string]string{"replicas": "3"}, Values: map[string]any{"replicas": 3}},
			{Name: "staging", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "staging"}},
				Path: "deploy/overlays/staging"},
		},
	}
	return spec.Select(clusters)
}

// end snippet

// snippet: fleet-group
// DeployEverywhere reconciles the commit of repo into every target, sixteen
// clusters at a time, each within a minute.
func DeployEverywhere(ctx context.Context, targets []fleet.Target, repo reconcile.Source, base reconcile.Options) ([]reconcile.SetResult, error) {
	g, err := fleet.NewGroup(targets, func(t fleet.Target) (reconcile.Runner, error) {
		return reconcile.NewForConfig(t.Cluster.Config, reconcile.Stages{Source: repo}, t.Options(base))
	}, reconcile.GroupOptions{Concurrency: 16, Timeout: time.Minute})
	if err != nil {
		return nil, err
	}
	return g.Reconcile(ctx) // a reconcile.SetResult per cluster
}

// end snippet

func TestEdgeTargets(t *testing.T) {
	targets, err := EdgeTargets([]fleet.Cluster{
		{Name: "a", Labels: map[string]string{"tier": "edge", "env": "staging"}},
		{Name: "b", Labels: map[string]string{"tier": "core", "env": "prod"}},
	})
	if err != nil || len(targets) != 1 || targets[0].Customization.Name != "staging" {
		t.Fatalf("targets %+v, %v", targets, err)
	}
}
