package applytest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// IllTypedSecret is a Secret whose value under data or stringData is not a string,
// as a YAML "|" forgotten makes it, or a string the API server refuses: its apply
// and its diff fail, and their errors must not quote the value.
type IllTypedSecret struct {
	// Name is the Secret's name.
	Name string
	// Path is the field the errors name (".data.password"); empty where the API
	// server names none (a string it cannot decode from base64).
	Path string
	// Manifest is the Secret, with NS for the namespace.
	Manifest string
	// Value is the wrong value, as YAML decodes it.
	Value any
}

var longValue = strings.Repeat("long secret value ", 20) + "end"

// IllTypedSecrets are the cases: a map, a list, a number, a bool and a long
// string, each under data and under stringData.
var IllTypedSecrets = []IllTypedSecret{
	illTyped("data-map", "data", "password", map[string]any{"nested": "hunter2-data-map"}),
	illTyped("stringdata-map", "stringData", "password", map[string]any{"nested": "hunter2-sd-map", "other": int64(73915)}),
	illTyped("data-list", "data", "password", []any{"alpha-data-list", "beta-data-list"}),
	illTyped("stringdata-list", "stringData", "password", []any{"alpha-sd-list", int64(64019)}),
	illTyped("data-number", "data", "pin", int64(918273)),
	illTyped("stringdata-number", "stringData", "pin", int64(918274)),
	illTyped("data-bool", "data", "enabled", true),
	illTyped("stringdata-bool", "stringData", "enabled", false),
	// Not base64, so the API server cannot decode it.
	{Name: "data-long", Value: longValue, Manifest: "apiVersion: v1\nkind: Secret\n" +
		"metadata: {name: data-long, namespace: NS}\ndata: {password: " + longValue + "}\n"},
	illTyped("stringdata-long", "stringData", "password", []any{longValue}),
}

func illTyped(name, field, key string, value any) IllTypedSecret {
	v, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return IllTypedSecret{Name: name, Path: "." + field + "." + key, Value: value, Manifest: "apiVersion: v1\nkind: Secret\n" +
		"metadata: {name: " + name + ", namespace: NS}\n" + field + ": {" + key + ": " + string(v) + "}\n"}
}

// AssertHidden asserts that msg names the Secret but holds none of its value's
// leaves, the value's JSON, or the base64 of a leaf.
func (s IllTypedSecret) AssertHidden(t *testing.T, msg string) {
	t.Helper()
	assert.Contains(t, msg, s.Name, "the error names the object")
	assert.Contains(t, msg, s.Path, "the error names the field")
	for _, f := range s.Forms() {
		assert.NotContains(t, msg, f, "%s: the error quotes its value", s.Name)
	}
}

// Forms returns what must not be shown: the value's JSON, each of its leaves
// and the base64 of each leaf.
func (s IllTypedSecret) Forms() []string {
	whole, _ := json.Marshal(s.Value)
	forms := []string{string(whole)}
	for _, leaf := range leaves(s.Value) {
		forms = append(forms, leaf, base64.StdEncoding.EncodeToString([]byte(leaf)))
	}
	return forms
}

// leaves returns the scalar values under v, as JSON prints them (strings bare).
func leaves(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, leaves(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, leaves(e)...)
		}
		return out
	case string:
		return []string{v}
	}
	b, _ := json.Marshal(v)
	return []string{string(b)}
}
