package object

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the API server or a YAML reader would silently change is refused, with the
// file, the line and the field; the default and the Lenient decoder alike.
func TestDecodeRefusesSilentChanges(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
	for _, tc := range []struct {
		name, file, input, want string
		strictOnly              bool // Lenient keeps the last of a key written twice, as Helm
	}{{
		name:       "JSON key written twice",
		file:       "cm.json",
		input:      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"safe","namespace":"kube-system"}}`,
		want:       `cm.json:1: invalid object: metadata.namespace: key "namespace" is written twice, at lines 1 and 1`,
		strictOnly: true,
	}, {
		name:       "JSON key written twice, in a stream, on another line",
		file:       "s.json",
		input:      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}\n{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\n \"metadata\":{\"name\":\"b\"},\n \"data\":{\"k\":\"1\",\n  \"k\":\"2\"}}\n",
		want:       `s.json:5: invalid object: data.k: key "k" is written twice, at lines 4 and 5`,
		strictOnly: true,
	}, {
		name:       "JSON document in a YAML stream, key written twice",
		file:       "s.yaml",
		input:      cm + "---\n{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\",\"namespace\":\"safe\",\"namespace\":\"kube-system\"}}\n",
		want:       `s.yaml:6: invalid object: invalid YAML: key "namespace" already set in map`,
		strictOnly: true,
	}, {
		name:  "YAML keys 1 and \"1\"",
		file:  "c.yaml",
		input: cm + "data:\n  1: a\n  \"1\": b\n",
		want:  `c.yaml:7: invalid object: data: keys 1 (line 6) and "1" (line 7) are the same key "1"`,
	}, {
		name:  "YAML keys 1.0 and 1, in a second document",
		file:  "c.yaml",
		input: cm + "---\n" + cm + "data:\n  1.0: a\n  1: b\n",
		want:  `c.yaml:12: invalid object: data: keys 1.0 (line 11) and 1 (line 12) are the same key "1"`,
	}, {
		name:  "YAML keys yes and true, in a List item",
		file:  "c.yaml",
		input: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n    'true': a\n    yes: b\n",
		want:  `c.yaml:9: invalid object: items[0].data: keys 'true' (line 8) and yes (line 9) are the same key "true"`,
	}, {
		name:  "YAML integer beyond int64",
		file:  "d.yaml",
		input: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 99999999999999999999\n",
		want:  "d.yaml:6: invalid object: spec.replicas: 99999999999999999999 does not fit a 64-bit integer (the API server would store another number)",
	}, {
		name:  "YAML integer just beyond int64, negative, in a list",
		file:  "d.yaml",
		input: cm + "---\n" + strings.ReplaceAll(cm, "a\n", "b\n") + "x: [1, -9223372036854775809]\n",
		want:  "d.yaml:10: invalid object: x[1]: -9223372036854775809 does not fit a 64-bit integer (the API server would store another number)",
	}, {
		name:  "YAML integer that only fits uint64",
		file:  "d.yaml",
		input: cm + "x: {z: 18446744073709551615}\n",
		want:  "d.yaml:5: invalid object: x.z: 18446744073709551615 does not fit a 64-bit integer (the API server would store another number)",
	}, {
		name:  "JSON integer beyond int64",
		file:  "d.json",
		input: "{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"web\"},\n \"spec\": {\"replicas\": 99999999999999999999}}",
		want:  "d.json:2: invalid object: spec.replicas: 99999999999999999999 does not fit a 64-bit integer (the API server would store another number)",
	}, {
		name:  "name y, a YAML 1.1 boolean",
		file:  "n.yaml",
		input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
		want:  "n.yaml:1: invalid object: ConfigMap: metadata.name: y is read as the boolean true, not a string: quote it",
	}, {
		name:  "namespace off",
		file:  "n.yaml",
		input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: off\n",
		want:  "n.yaml:1: invalid object: ConfigMap a: metadata.namespace: off is read as the boolean false, not a string: quote it",
	}, {
		name:  "kind No",
		file:  "n.yaml",
		input: "apiVersion: v1\nkind: No\nmetadata:\n  name: a\n",
		want:  "n.yaml:1: invalid object: kind: No is read as the boolean false, not a string: quote it",
	}, {
		name:  "apiVersion a number",
		file:  "n.yaml",
		input: "apiVersion: 1.10\nkind: X\nmetadata:\n  name: a\n",
		want:  "n.yaml:1: invalid object: apiVersion: 1.10 is read as a number 1.1, not a string: quote it",
	}, {
		name:  "JSON name true",
		file:  "n.json",
		input: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":true}}`,
		want:  "n.json:1: invalid object: ConfigMap: metadata.name: true is read as the boolean, not a string: quote it",
	}} {
		for _, d := range []Decoder{{}, {Lenient: true}} {
			if d.Lenient && tc.strictOnly {
				_, err := d.Decode(strings.NewReader(tc.input), tc.file)
				require.NoError(t, err, tc.name)
				continue
			}
			t.Run(tc.name, func(t *testing.T) {
				ms, err := d.Decode(strings.NewReader(tc.input), tc.file)
				require.Error(t, err)
				assert.Nil(t, ms)
				assert.Equal(t, tc.want, err.Error())
				assert.ErrorIs(t, err, ErrInvalid)
				var de *DecodeError
				require.True(t, errors.As(err, &de))
			})
		}
	}
}

// Colliding keys used to decode to either value at random; now every decode
// gives the same error.
func TestDecodeKeyCollisionIsDeterministic(t *testing.T) {
	input := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  1: a\n  \"1\": b\n  y: c\n  'true': d\n"
	for range 50 {
		_, err := Decode(strings.NewReader(input), "c.yaml")
		require.Error(t, err)
		assert.Equal(t, `c.yaml:6: invalid object: data: keys 1 (line 5) and "1" (line 6) are the same key "1"`, err.Error())
	}
}

// Numbers that are really floats, and integers that fit, are kept as they are.
func TestDecodeKeepsNumbers(t *testing.T) {
	for _, file := range []string{"n.yaml", "n.json"} {
		input := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nx: {half: 0.5, big: 1e20, bigger: 1.5e300, max: 9223372036854775807, min: -9223372036854775808, neg: -2.5e19}\n"
		if file == "n.json" {
			input = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"x":{"half":0.5,"big":1e20,"bigger":1.5e300,"max":9223372036854775807,"min":-9223372036854775808,"neg":-2.5e19}}`
		}
		ms, err := Decode(strings.NewReader(input), file)
		require.NoError(t, err, file)
		assert.Equal(t, map[string]any{"half": 0.5, "big": 1e20, "bigger": 1.5e300, "max": int64(9223372036854775807), "min": int64(-9223372036854775808), "neg": -2.5e19},
			ms[0].Object.Object["x"], file)
	}
}
