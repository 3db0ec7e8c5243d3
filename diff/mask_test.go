package diff_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/diff"
)

func TestSecretMasking(t *testing.T) {
	e := newEnv(t)
	objs := e.corpus("Secret/creds")
	e.apply(objs...)
	// Someone changes the password in the cluster; the user stays the same.
	live := e.live(objs...)[0]
	const leaked = "s3cr3t-changed"
	live.Object["data"].(map[string]any)["password"] = base64.StdEncoding.EncodeToString([]byte(leaked))
	_, err := e.resource(live).Update(e.ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	require.NoError(t, err)

	p := both(t, e, diff.Options{Force: true}, diff.Input{Desired: objs, Live: e.live(objs...)})
	require.Len(t, p.Changes, 1)
	assert.Equal(t, diff.Update, p.Changes[0].Action)
	assert.Equal(t, []string{".data.password"}, p.Changes[0].Paths)

	var text, js bytes.Buffer
	require.NoError(t, p.WriteText(&text, diff.TextOptions{Color: true}))
	require.NoError(t, p.WriteJSON(&js))
	for _, out := range []string{text.String(), js.String()} {
		assert.Contains(t, out, "++++++++ (hmac:")
		for _, v := range []string{"hunter2-hunter2", leaked, "admin"} {
			assert.NotContains(t, out, v)
			assert.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte(v)))
		}
	}
	// The unchanged user keeps the same placeholder on both sides, so it is a
	// context line; the password's two placeholders differ.
	assert.Equal(t, 1, bytes.Count(text.Bytes(), []byte("\n   user: ++++++++")), text.String())
	assert.Equal(t, 1, bytes.Count(text.Bytes(), []byte("-  password: ++++++++")), text.String())
	assert.Equal(t, 1, bytes.Count(text.Bytes(), []byte("+  password: ++++++++")), text.String())
}
