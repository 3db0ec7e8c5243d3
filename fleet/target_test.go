package fleet_test

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/fleet"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
)

func TestSelectFirstCustomizationWins(t *testing.T) {
	clusters := []fleet.Cluster{
		{Name: "a", Labels: map[string]string{"env": "prod", "region": "eu"}},
		{Name: "b", Labels: map[string]string{"env": "prod", "region": "us"}},
		{Name: "c", Labels: map[string]string{}},
	}
	spec := fleet.Spec{
		Targets: []metav1.LabelSelector{{MatchLabels: map[string]string{"env": "prod"}}},
		Customizations: []fleet.Customization{
			{Name: "none"}, // no selector: applies nowhere
			{Name: "eu", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"region": "eu"}}},
			{Name: "all", ClusterSelector: &metav1.LabelSelector{}},
		},
	}
	targets, err := spec.Select(clusters)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Cluster.Name+"="+tg.Customization.Name)
	}
	if strings.Join(got, " ") != "a=eu b=all" {
		t.Fatalf("targets %v", got)
	}
	if none, _ := (fleet.Spec{}).Select(clusters); len(none) != 0 {
		t.Fatalf("no Targets selected %d clusters", len(none))
	}
	bad := fleet.Spec{Customizations: []fleet.Customization{{Name: "broken", ClusterSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: "Near"}}}}}}
	if _, err := bad.Select(clusters); err == nil || !strings.Contains(err.Error(), "customization broken: clusterSelector") {
		t.Fatalf("bad selector: %v", err)
	}
}

func TestTargetOptionsMergeOverTheBase(t *testing.T) {
	base := reconcile.Options{Path: "app", Render: render.Options{Helm: render.HelmOptions{Values: map[string]any{
		"image": map[string]any{"repository": "web", "tag": "1.0"}, "replicas": 1,
	}}}}
	tg := fleet.Target{Customization: fleet.Customization{Path: "app/prod", Namespace: "prod",
		Values: map[string]any{"image": map[string]any{"tag": "1.1"}}, Vars: map[string]string{"x": "y"}}}
	opts := tg.Options(base)
	want := map[string]any{"image": map[string]any{"repository": "web", "tag": "1.1"}, "replicas": 1}
	if !reflect.DeepEqual(opts.Render.Helm.Values, want) || opts.Path != "app/prod" || opts.Cluster.Namespace != "prod" ||
		opts.Render.Helm.Namespace != "prod" || len(opts.Transforms) != 1 {
		t.Fatalf("options %+v", opts)
	}
	if base.Render.Helm.Values["image"].(map[string]any)["tag"] != "1.0" || base.Path != "app" || len(base.Transforms) != 0 {
		t.Fatalf("the base changed: %+v", base)
	}
}
