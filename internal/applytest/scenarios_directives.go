package applytest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// annotated returns a ConfigMap manifest with one annotation.
func annotated(name, key, value, body string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: NS, annotations: {" + key + ": \"" + value + "\"}}\n" + body + "\n"
}

const (
	syncOptions = "argocd.argoproj.io/sync-options"
	fluxSSA     = "kustomize.toolkit.fluxcd.io/ssa"
)

// data checks the data key k of the object key after the apply.
func data(key, k, want string) func(t testing.TB, after map[string]*unstructured.Unstructured) {
	return func(t testing.TB, after map[string]*unstructured.Unstructured) {
		got, _, _ := unstructured.NestedString(after[key].Object, "data", k)
		assert.Equal(t, want, got, "%s data.%s", key, k)
	}
}

// directiveScenarios are those of the annotations of Argo CD and Flux that change
// how one object is applied: the plan must say what the apply then does.
var directiveScenarios = []Scenario{{
	Name:    "Flux ssa: IfNotPresent leaves an object that exists alone",
	Before:  []Step{{Manager: "someone", Objects: configMap("seed", "data: {a: \"1\"}")}},
	Desired: annotated("seed", fluxSSA, "IfNotPresent", "data: {a: \"2\"}"),
	Want:    map[string]string{"ConfigMap/seed": "skipped"},
	Check:   data("ConfigMap/seed", "a", "1"),
}, {
	Name:    "Flux ssa: IfNotPresent creates an object that does not exist",
	Desired: annotated("seed", fluxSSA, "IfNotPresent", "data: {a: \"2\"}"),
	Want:    map[string]string{"ConfigMap/seed": "created"},
}, {
	Name:    "Flux ssa: Ignore never applies",
	Desired: annotated("ignored", fluxSSA, "ignore", "data: {a: \"2\"}"),
	Want:    map[string]string{"ConfigMap/ignored": "skipped"},
	Check: func(t testing.TB, after map[string]*unstructured.Unstructured) {
		assert.NotContains(t, after, "ConfigMap/ignored")
	},
}, {
	Name:    "Flux reconcile: disabled on the live object leaves it alone",
	Before:  []Step{{Manager: FieldManager, Objects: annotated("frozen", "kustomize.toolkit.fluxcd.io/reconcile", "disabled", "data: {a: \"1\"}")}},
	Desired: configMap("frozen", "data: {a: \"2\"}"),
	Want:    map[string]string{"ConfigMap/frozen": "skipped"},
	Check:   data("ConfigMap/frozen", "a", "1"),
}, {
	Name:    "Flux ssa: Merge does not take a field another manager owns, even with Force",
	Before:  []Step{{Manager: "other-tool", Objects: configMap("shared", "data: {owner: other}")}},
	Desired: annotated("shared", fluxSSA, "Merge", "data: {owner: us}"),
	Force:   true,
	Want:    map[string]string{"ConfigMap/shared": Conflict},
}, {
	Name:    "Flux ssa: Merge keeps the fields of client-side apply",
	Before:  []Step{{How: ClientSideApply, Manager: "kubectl-client-side-apply", Objects: configMap("old", "data: {a: \"1\", b: \"2\"}")}},
	Desired: annotated("old", fluxSSA, "Merge", "data: {a: \"1\"}"),
	Want:    map[string]string{"ConfigMap/old": "configured"},
	// kubectl's last-applied annotation is not compared.
	Changed: map[string][]string{"ConfigMap/old": {".metadata.annotations"}},
	Foreign: map[string][]string{"ConfigMap/old": {".data.a", ".data.b"}},
	Check:   data("ConfigMap/old", "b", "2"),
}, {
	Name: "Argo CD Replace=true: what the object does not declare goes, whoever set it",
	Before: []Step{
		{Manager: FieldManager, Objects: annotated("whole", syncOptions, "Replace=true", "data: {a: \"1\"}")},
		{Manager: "labeler", Objects: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: whole, namespace: NS, labels: {team: shop}}\ndata: {c: \"3\"}\n"},
	},
	Desired: annotated("whole", syncOptions, "Replace=true", "data: {a: \"2\"}"),
	Want:    map[string]string{"ConfigMap/whole": "configured"},
	Changed: map[string][]string{"ConfigMap/whole": {".data.a", ".data.c", ".metadata.labels"}},
	Foreign: map[string][]string{"ConfigMap/whole": {".data.c", ".metadata.labels.team"}},
	Check: func(t testing.TB, after map[string]*unstructured.Unstructured) {
		data("ConfigMap/whole", "c", "")(t, after)
		assert.Empty(t, after["ConfigMap/whole"].GetLabels(), "the labeler's label")
	},
}, {
	Name: "Argo CD Replace=true: an object whose values are in place is not written",
	Before: []Step{
		{Manager: FieldManager, Objects: annotated("whole", syncOptions, "Replace=true", "data: {a: \"1\"}")},
		{Manager: "labeler", Objects: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: whole, namespace: NS, labels: {team: shop}}\n"},
	},
	Desired: annotated("whole", syncOptions, "Replace=true", "data: {a: \"1\"}"),
	Want:    map[string]string{"ConfigMap/whole": "unchanged"},
}, {
	Name:    "Argo CD Replace=true,Force=true: a changed Job is deleted and created",
	Before:  []Step{{Manager: FieldManager, Objects: job(forceReplace, "busybox:1")}},
	Desired: job(forceReplace, "busybox:2"),
	Want:    map[string]string{"Job/once": "recreated"},
	Changed: map[string][]string{"Job/once": recreatedJob},
}, {
	Name:    "Argo CD Force=true alone: an immutable field change recreates",
	Before:  []Step{{Manager: FieldManager, Objects: job(", annotations: {"+syncOptions+": Force=true}", "busybox:1")}},
	Desired: job(", annotations: {"+syncOptions+": Force=true}", "busybox:2"),
	Want:    map[string]string{"Job/once": "recreated"},
	Changed: map[string][]string{"Job/once": recreatedJob},
	Offline: map[string][]string{"Job/once": {jobImage}},
}, {
	Name:    "Flux force: enabled recreates on an immutable field change",
	Before:  []Step{{Manager: FieldManager, Objects: job(", annotations: {kustomize.toolkit.fluxcd.io/force: Enabled}", "busybox:1")}},
	Desired: job(", annotations: {kustomize.toolkit.fluxcd.io/force: Enabled}", "busybox:2"),
	Want:    map[string]string{"Job/once": "recreated"},
	Changed: map[string][]string{"Job/once": recreatedJob},
	Offline: map[string][]string{"Job/once": {jobImage}},
}, {
	Name:    "Argo CD Validate=false: a replace drops a field the schema does not know",
	Desired: annotated("loose", syncOptions, "Validate=false,Replace=true", "data: {a: \"1\"}\nextra: field"),
	Want:    map[string]string{"ConfigMap/loose": "created"},
}, {
	// The API server types an apply's patch by the schema whatever the validation.
	Name:    "Argo CD Validate=false: a server-side apply still refuses a field the schema does not know",
	Desired: annotated("loose", syncOptions, "Validate=false", "data: {a: \"1\"}\nextra: field"),
	Want:    map[string]string{"ConfigMap/loose": Invalid},
}, {
	Name:    "a replace with strict validation refuses a field the schema does not know, as kubectl's",
	Desired: annotated("strict", syncOptions, "Replace=true", "data: {a: \"1\"}\nextra: field"),
	Want:    map[string]string{"ConfigMap/strict": Invalid},
}, {
	Name:    "a field the schema does not know fails",
	Desired: configMap("strict", "data: {a: \"1\"}\nextra: field"),
	Want:    map[string]string{"ConfigMap/strict": Invalid},
}}

const forceReplace = ", annotations: {" + syncOptions + ": \"Force=true,Replace=true\"}"

// recreatedJob are the fields that change when the Job is created anew.
var recreatedJob = []string{
	".metadata.labels.controller-uid",
	`.metadata.labels["batch.kubernetes.io/controller-uid"]`,
	`.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"]`,
	".spec.template.metadata.labels.controller-uid",
	`.spec.template.metadata.labels["batch.kubernetes.io/controller-uid"]`,
	jobImage,
}
