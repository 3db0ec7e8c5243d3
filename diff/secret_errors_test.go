package diff_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/internal/applytest"
	"github.com/gitopskit/gitopskit/object"
)

// A Secret whose value is a map, a list, a number, a bool or a string the API
// server cannot decode fails to plan with either engine, and neither the error,
// the failed object's error nor the text and JSON output quotes the value.
func TestIllTypedSecretValuesNotInErrors(t *testing.T) {
	e := newEnv(t)
	var all string
	for _, s := range applytest.IllTypedSecrets {
		all += "---\n" + s.Manifest
	}
	ms, err := object.Decode(strings.NewReader(strings.ReplaceAll(all, "NS", e.ns)), "secrets.yaml")
	require.NoError(t, err)
	objs := object.Objects(ms)
	// As a create, then as an update of Secrets that hold a valid value.
	plan(t, e, objs, nil)
	var valid []*unstructured.Unstructured
	for _, u := range objs {
		v := u.DeepCopy()
		delete(v.Object, "stringData")
		v.Object["data"] = map[string]any{"password": "dmFsaWQ="}
		valid = append(valid, v)
	}
	e.apply(valid...)
	plan(t, e, objs, e.live(valid...))
}

// plan plans objs over live with both engines and checks that no value of
// [applytest.IllTypedSecrets] shows in what the plan returns.
func plan(t *testing.T, e *env, objs, live []*unstructured.Unstructured) {
	t.Helper()
	server, offline := e.differs(diff.Options{})
	for name, d := range map[string]*diff.Differ{"server": server, "offline": offline} {
		p, err := d.Plan(e.ctx, diff.Input{Desired: objs, Live: live})
		require.Error(t, err, name)
		require.NotNil(t, p, name)
		failed := map[string]error{}
		for _, f := range p.Failed {
			failed[f.ID.Name] = f
		}
		var text, js bytes.Buffer
		require.NoError(t, p.WriteText(&text, diff.TextOptions{}))
		require.NoError(t, p.WriteJSON(&js))
		for _, s := range applytest.IllTypedSecrets {
			ferr, ok := failed[s.Name]
			if name == "offline" && s.Path == "" {
				// The offline engine does not decode base64: the string plans as a
				// change; the masked output below still must not show it.
				assert.False(t, ok, "%s: %v", s.Name, ferr)
			} else {
				require.True(t, ok, "%s: %s did not fail", name, s.Name)
				t.Logf("%s: %s", name, ferr)
				s.AssertHidden(t, ferr.Error())
			}
			for _, out := range []string{err.Error(), text.String(), js.String()} {
				for _, f := range s.Forms() {
					assert.NotContains(t, out, f, "%s: %s", name, s.Name)
				}
			}
		}
	}
}
