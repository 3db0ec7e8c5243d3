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
