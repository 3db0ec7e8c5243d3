package redact

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func secret(t testing.TB, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSecret(t *testing.T) {
	s := secret(t, `{apiVersion: v1, kind: Secret, metadata: {name: s},
data: {key: c2VjcmV0LXZhbHVl, m: {nested: hunter2}, l: [alpha, 73915]},
stringData: {token: tok-123, pin: 918273, on: true, q: "a\"quoted\"b"}}`)
	cause := errors.New(`invalid: "tok-123", secret-value, c2VjcmV0LXZhbHVl, ` + base64.StdEncoding.EncodeToString([]byte("tok-123")) +
		`, map[string]interface {}{"nested":"hunter2"}, map[nested:hunter2], {"nested":"hunter2"}, []interface {}{"alpha", 73915}, 918273, true, "a\"quoted\"b"`)
	err := Secret(fmt.Errorf("apply s: %w", cause), s)
	want := `apply s: invalid: "***", ***, ***, ***, ***, ***, ***, ***, ***, ***, "***"`
	if err.Error() != want {
		t.Errorf("Secret =\n%s\nwant\n%s", err, want)
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is does not see the cause")
	}
	if got := Secret(cause, secret(t, `{apiVersion: v1, kind: ConfigMap, data: {a: tok-123}}`)); got != cause {
		t.Errorf("a ConfigMap's values are hidden: %v", got)
	}
	if got := Secret(cause, secret(t, `{apiVersion: example.com/v1, kind: Secret, data: {a: tok-123}}`)); got != cause {
		t.Errorf("a Secret of another group is hidden: %v", got)
	}
	if Secret(nil, s) != nil {
		t.Error("Secret(nil) is not nil")
	}
}

// FuzzSecret puts a value of any type under a Secret's data or stringData, quotes
// it in a message in each form an error may (Go's %v and %#v, JSON, base64) and
// checks that no collected value of four bytes or more is left. Values holding the
// mask's "*" are left out: the mask cannot be told from them.
func FuzzSecret(f *testing.F) {
	f.Add("password", `{nested: hunter2}`, "expected string, got ", "", false)
	f.Add("pin", `1234`, "got &value.valueUnstructured{Value:", "}", true)
	f.Add("p", `[a, {b: [c2VjcmV0, 1.5e9]}, true]`, "", "", false)
	f.Add("p", `"a\"b\\\\c\n"`, "x", "y", true)
	f.Fuzz(func(t *testing.T, key, value, prefix, suffix string, data bool) {
		var v any
		if yaml.Unmarshal([]byte(value), &v) != nil || strings.Contains(value, "*") {
			return
		}
		field := "stringData"
		if data {
			field = "data"
		}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret", field: map[string]any{key: v},
		}}
		vals := SecretValues(u)
		for _, s := range vals {
			if strings.Contains(s, "*") {
				return
			}
		}
		msg := prefix + fmt.Sprintf("%v | %#v | ", v, v) + strings.Join(vals, " ") + suffix
		out := Secret(errors.New(msg), u).Error()
		for _, s := range vals {
			if len(s) >= 4 && strings.Contains(out, s) && !strings.Contains(prefix+suffix, s) {
				t.Fatalf("redacting %q gives %q, which holds %q", msg, out, s)
			}
		}
	})
}
