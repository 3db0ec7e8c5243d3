package applytest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// web is a Deployment whose apply the server defaults in many places; ENV stands
// for its container's env entries.
const web = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS, labels: {app: web}}
spec:
  REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080}]
        env: [ENV]
`

func deployment(replicas, env string) string {
	if replicas != "" {
		replicas = "replicas: " + replicas
	}
	return strings.NewReplacer("REPLICAS", replicas, "ENV", env).Replace(web)
}

func configMap(name, body string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: NS}\n" + body + "\n"
}

func job(annotations, image string) string {
	return "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once, namespace: NS" + annotations + "}\n" +
		"spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: " + image + "}]}}}\n"
}

// noClientSideApply checks that no object keeps a field of kubectl's client-side
// apply after the migration.
func noClientSideApply(t testing.TB, after map[string]*unstructured.Unstructured) {
	for key, u := range after {
		for _, mf := range u.GetManagedFields() {
			assert.NotEqual(t, "kubectl-client-side-apply", mf.Manager, key)
		}
	}
}

const (
	recreateAnnotation = ", annotations: {gitopskit.io/recreate: enabled}"
	jobImage           = `.spec.template.spec.containers[name="c"].image`
)

// Scenarios are the apply scenarios, each run in a namespace of its own.
var Scenarios = append(scenarios, directiveScenarios...)

var scenarios = []Scenario{{
	Name:    "create, with server defaults",
	Desired: configMap("settings", "data: {color: blue}") + "---" + deployment("2", "{name: A, value: a}"),
	Want:    map[string]string{"ConfigMap/settings": "created", "Deployment/web": "created"},
}, {
	Name: "unchanged, with server defaults",
	Before: []Step{{Manager: FieldManager,
		Objects: configMap("settings", "data: {color: blue}") + "---" + deployment("2", "{name: A, value: a}")}},
	Desired: configMap("settings", "data: {color: blue}") + "---" + deployment("2", "{name: A, value: a}"),
	Want:    map[string]string{"ConfigMap/settings": "unchanged", "Deployment/web": "unchanged"},
}, {
	Name: "removals: a key, a label and a list item",
	Before: []Step{{Manager: FieldManager, Objects: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: NS, labels: {keep: \"1\", drop: \"2\"}}\ndata: {a: \"1\", b: \"2\"}\n" +
		"---" + deployment("2", "{name: A, value: a}, {name: B, value: b}")}},
	Desired: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: NS, labels: {keep: \"1\"}}\ndata: {a: \"1\"}\n" +
		"---" + deployment("2", "{name: A, value: a}"),
	Want: map[string]string{"ConfigMap/settings": "configured", "Deployment/web": "configured"},
	Changed: map[string][]string{
		"ConfigMap/settings": {".data.b", ".metadata.labels.drop"},
		"Deployment/web":     {`.spec.template.spec.containers[name="web"].env[name="B"]`},
	},
}, {
	Name:    "defaults: a field no longer declared is defaulted again",
	Before:  []Step{{Manager: FieldManager, Objects: deployment("3", "")}},
	Desired: deployment("", ""),
	Want:    map[string]string{"Deployment/web": "configured"},
	Changed: map[string][]string{"Deployment/web": {".spec.replicas"}},
}, {
	Name: "foreign fields are left to their managers",
	Before: []Step{
		{Manager: FieldManager, Objects: configMap("settings", "data: {a: \"1\"}")},
		{Manager: "labeler", Objects: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: NS, labels: {team: shop}}\ndata: {c: \"3\"}\n"},
	},
	Desired: configMap("settings", "data: {a: \"1\"}"),
	Want:    map[string]string{"ConfigMap/settings": "unchanged"},
	Foreign: map[string][]string{"ConfigMap/settings": {".data.c", ".metadata.labels.team"}},
}, {
	Name:    "an object of another manager with our values is shared, not changed",
	Before:  []Step{{Manager: "someone", Objects: configMap("x", "data: {k: v}")}},
	Desired: configMap("x", "data: {k: v}"),
	Want:    map[string]string{"ConfigMap/x": "unchanged"},
	Foreign: map[string][]string{"ConfigMap/x": {".data.k"}},
}, {
	Name:    "conflict without force",
	Before:  []Step{{Manager: "other-tool", Objects: configMap("shared", "data: {owner: other}")}},
	Desired: configMap("shared", "data: {owner: us}"),
	Want:    map[string]string{"ConfigMap/shared": Conflict},
}, {
	Name:    "conflict with force",
	Before:  []Step{{Manager: "other-tool", Objects: configMap("shared", "data: {owner: other}")}},
	Desired: configMap("shared", "data: {owner: us}"),
	Force:   true,
	Want:    map[string]string{"ConfigMap/shared": "configured"},
	Changed: map[string][]string{"ConfigMap/shared": {".data.owner"}},
	Foreign: map[string][]string{"ConfigMap/shared": {".data.owner"}},
}, {
	Name:    "client-side apply migration: a key no longer declared is removed",
	Before:  []Step{{How: ClientSideApply, Manager: "kubectl-client-side-apply", Objects: configMap("old", "data: {a: \"1\", b: \"2\"}")}},
	Desired: configMap("old", "data: {a: \"1\"}"),
	Want:    map[string]string{"ConfigMap/old": "configured"},
	Changed: map[string][]string{"ConfigMap/old": {".data.b"}},
	Check:   noClientSideApply,
}, {
	Name:    "client-side apply migration: a changed value is no conflict",
	Before:  []Step{{How: ClientSideApply, Manager: "kubectl-client-side-apply", Objects: configMap("old", "data: {a: \"1\", b: \"2\"}")}},
	Desired: configMap("old", "data: {a: \"3\"}"),
	Want:    map[string]string{"ConfigMap/old": "configured"},
	Changed: map[string][]string{"ConfigMap/old": {".data.a", ".data.b"}},
	Check:   noClientSideApply,
}, {
	Name:    "client-side apply migration: defaulted fields are defaulted again",
	Before:  []Step{{How: ClientSideApply, Manager: "kubectl-client-side-apply", Objects: deployment("2", "{name: A, value: a}, {name: B, value: b}")}},
	Desired: deployment("2", "{name: A, value: a}"),
	Want:    map[string]string{"Deployment/web": "configured"},
	Changed: map[string][]string{"Deployment/web": {`.spec.template.spec.containers[name="web"].env[name="B"]`}},
	Check:   noClientSideApply,
}, {
	Name:    "recreate: an immutable field changes, the annotation allows it",
	Before:  []Step{{Manager: FieldManager, Objects: job(recreateAnnotation, "busybox:1")}},
	Desired: job(recreateAnnotation, "busybox:2"),
	Want:    map[string]string{"Job/once": "recreated"},
	Changed: map[string][]string{"Job/once": recreatedJob},
	Offline: map[string][]string{"Job/once": {jobImage}},
}, {
	Name:     "recreate: an immutable ConfigMap changes, the option allows it",
	Before:   []Step{{Manager: FieldManager, Objects: configMap("frozen", "immutable: true\ndata: {k: \"1\"}")}},
	Desired:  configMap("frozen", "immutable: true\ndata: {k: \"2\"}"),
	Recreate: true,
	Want:     map[string]string{"ConfigMap/frozen": "recreated"},
	Changed:  map[string][]string{"ConfigMap/frozen": {".data.k"}},
	Offline:  map[string][]string{"ConfigMap/frozen": {".data.k"}},
}, {
	Name:    "an immutable field changes without recreate",
	Before:  []Step{{Manager: FieldManager, Objects: job("", "busybox:1")}},
	Desired: job("", "busybox:2"),
	Want:    map[string]string{"Job/once": Immutable},
	Offline: map[string][]string{"Job/once": {jobImage}},
}, {
	Name:    "the set creates its own namespace",
	Desired: "apiVersion: v1\nkind: Namespace\nmetadata: {name: OWN}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside, namespace: OWN}\ndata: {k: v}\n",
	Want:    map[string]string{"Namespace/OWN": "created", "ConfigMap/inside": "created"},
	DryRun:  map[string]string{"ConfigMap/inside": "skipped"},
}}
