package health_test

import (
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestCELRuleErrorsAtLoad(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`object.status.phase ==`, "Syntax error"},
		{`"Healthy"`, "returns string"},
		{`object.status.ready && 1`, "expected type 'bool' but found 'int'"},
		{`{1: "x"}`, "string keys"},
		{`undefinedVariable`, "undeclared reference"},
	} {
		_, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{Name: "my-rule", Group: "example.com", Kind: "Thing", Expression: c.expr}}})
		require.Error(t, err, c.expr)
		assert.ErrorIs(t, err, health.ErrInvalidRule)
		assert.Contains(t, err.Error(), `"my-rule" (example.com/Thing)`)
		assert.Contains(t, err.Error(), c.want, c.expr)
	}
	_, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{Name: "no-kind", Expression: "null"}}})
	assert.ErrorIs(t, err, health.ErrInvalidRule)
}

func TestCELRuleEvaluation(t *testing.T) {
	thing := func(phase string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Thing", "metadata": map[string]any{"name": "t"}}}
		if phase != "" {
			u.Object["status"] = map[string]any{"phase": phase, "items": []any{int64(1), int64(2), int64(3)}}
		}
		return u
	}
	rules := []health.CELRule{
		{Name: "fallthrough", Group: "example.com", Kind: "Thing", Expression: `has(object.status) ? {} : {}`},
		{Name: "phase", Group: "example.com", Kind: "Thing", Expression: `
			!has(object.status) ? {} :
			object.status.phase == "Ready" ? {"code": "Healthy", "message": "ready with " + string(size(object.status.items)) + " items"} :
			object.status.phase == "Weird" ? {"code": "Fine", "message": ""} :
			object.status.phase == "Broken" ? {"code": "Degraded", "message": object.status.missing} :
			{"code": "Progressing", "message": "phase " + object.status.phase.lowerAscii()}`},
	}
	a, err := health.NewAssessor(health.Options{CELRules: rules})
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Healthy, Message: "ready with 3 items"}, a.Assess(thing("Ready")))
	assert.Equal(t, health.Status{Code: health.Progressing, Message: "phase starting"}, a.Assess(thing("Starting")))
	// null falls through to the generic rule: no status, Healthy.
	assert.Equal(t, health.Status{Code: health.Healthy}, a.Assess(thing("")))
	s := a.Assess(thing("Weird"))
	assert.Equal(t, health.Unknown, s.Code)
	assert.Contains(t, s.Message, `rule phase: returned code "Fine"`)
	s = a.Assess(thing("Broken"))
	assert.Equal(t, health.Unknown, s.Code)
	assert.Contains(t, s.Message, "rule phase: object.status.missing: no such key: missing (line 5, column")

	// The cost limit stops an expensive expression at evaluation.
	heavy, err := health.NewAssessor(health.Options{CELCostLimit: 100, CELRules: []health.CELRule{{Name: "heavy", Group: "example.com", Kind: "Thing",
		Expression: `object.status.items.map(x, object.status.items.map(y, x * y)).size() > 0 ? {"code": "Healthy"} : {}`}}})
	require.NoError(t, err)
	big := thing("Ready")
	items := make([]any, 100)
	for i := range items {
		items[i] = int64(i)
	}
	big.Object["status"].(map[string]any)["items"] = items
	s = heavy.Assess(big)
	assert.Equal(t, health.Unknown, s.Code)
	assert.True(t, strings.Contains(s.Message, "cost limit"), s.Message)

	// Go rules come first and can fall through too.
	goRule, err := health.NewAssessor(health.Options{Rules: map[schema.GroupKind]health.Rule{
		{Group: "example.com", Kind: "Thing"}: func(u *unstructured.Unstructured) (health.Status, bool) {
			return health.Status{Code: health.Suspended, Message: "by Go"}, u.GetName() == "t"
		},
	}, CELRules: rules})
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Suspended, Message: "by Go"}, goRule.Assess(thing("Ready")))
}

// TestCELFeatures: rules have the API server's CEL, one example per feature. Each
// expression returns {"code": "Healthy", "message": <what it computed>} for the
// object below.
func TestCELFeatures(t *testing.T) {
	obj := loadObject(t, []byte(`{apiVersion: example.com/v1, kind: Thing,
		metadata: {name: t, annotations: {example.com/tier: gold}},
		spec: {memory: 1536Mi, endpoint: "https://db.example.com:5432/orders", podCIDR: 10.8.0.0/16, nodeIP: 10.8.3.7, version: 1.4.2,
			replicas: [3, 1, 2], labels: {app: web, team: shop}},
		status: {conditions: [{type: Ready, status: "True", reason: Available}, {type: Synced, status: "True"}]}}`))
	cases := []struct{ feature, expr, want string }{
		{"optional field", `string(object.?status.?conditions.orValue([]).size())`, "2"},
		{"optional field, absent", `object.?status.?missing.?deeper.orValue("none")`, "none"},
		{"optional index", `object.metadata.?annotations[?"example.com/tier"].orValue("standard")`, "gold"},
		{"optional first element", `object.status.conditions.filter(c, c.type == "Stalled")[?0].?reason.orValue("not stalled")`, "not stalled"},
		{"cel.bind", `cel.bind(ready, object.status.conditions.filter(c, c.type == "Ready")[0], ready.status + "/" + ready.reason)`, "True/Available"},
		{"strings", `"%s-%d".format(["web", 3]) + " " + "Shop".lowerAscii() + " " + ["a", "b"].join(",")`, "web-3 shop a,b"},
		{"regex", `object.spec.version.find("^[0-9]+") + " " + string(object.spec.version.matches("^1\\.[0-9]+\\.[0-9]+$"))`, "1 true"},
		{"quantity", `string(quantity(object.spec.memory).isGreaterThan(quantity("1Gi")))`, "true"},
		{"Kubernetes lists", `string(object.spec.replicas.sum()) + " " + string(object.spec.replicas.isSorted()) + " " + string(object.spec.replicas.indexOf(2))`, "6 false 2"},
		{"extended lists", `object.spec.replicas.sort().map(r, string(r)).join(",") + " " + string(lists.range(2).size())`, "1,2,3 2"},
		{"sets", `string(sets.contains(["app", "team", "tier"], object.spec.labels.map(k, k)))`, "true"},
		{"two-variable comprehension", `string(object.spec.labels.all(k, v, k.size() > 2 && v != ""))`, "true"},
		{"URL", `url(object.spec.endpoint).getHostname() + ":" + url(object.spec.endpoint).getPort()`, "db.example.com:5432"},
		{"IP and CIDR", `string(cidr(object.spec.podCIDR).containsIP(ip(object.spec.nodeIP)))`, "true"},
		{"semver", `string(semver(object.spec.version).isLessThan(semver("1.10.0")))`, "true"},
		{"format", `string(format.dns1123Label().validate("Not_A_Label").hasValue())`, "true"},
	}
	for _, c := range cases {
		t.Run(c.feature, func(t *testing.T) {
			a, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{Name: c.feature, Group: "example.com", Kind: "Thing",
				Expression: `{"code": "Healthy", "message": ` + c.expr + `}`}}})
			require.NoError(t, err)
			assert.Equal(t, health.Status{Code: health.Healthy, Message: c.want}, a.Assess(obj))
		})
	}
}

// TestCELErrorNamesRuleAndField: has() on a field whose parent is missing is an
// evaluation error (has() tests only the last field); the object is Unknown with a
// message that names the rule, the expression that failed and where, and the
// optional syntax that avoids it.
func TestCELErrorNamesRuleAndField(t *testing.T) {
	a, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{
		{Name: "thing-ready", Group: "example.com", Kind: "Thing",
			Expression: `has(object.status.conditions) ? {"code": "Healthy"} : {"code": "Progressing"}`},
		{Name: "widget-phase", Group: "example.com", Kind: "Widget",
			Expression: "{\"code\": \"Healthy\",\n \"message\": object.status.phase}"},
	}})
	require.NoError(t, err)
	s := a.Assess(loadObject(t, []byte(`{apiVersion: example.com/v1, kind: Thing, metadata: {name: t}, spec: {}}`)))
	assert.Equal(t, health.Unknown, s.Code)
	assert.Equal(t, "rule thing-ready: has(object.status.conditions): no such key: status (line 1, column 4); read an optional field with object.?status.?conditions.orValue(...)", s.Message)

	s = a.Assess(loadObject(t, []byte(`{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, status: {}}`)))
	assert.Equal(t, health.Unknown, s.Code)
	assert.Equal(t, "rule widget-phase: object.status.phase: no such key: phase (line 2, column 26); read an optional field with object.?status.?phase.orValue(...)", s.Message)
}
