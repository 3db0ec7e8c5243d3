package diff

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/gitopskit/gitopskit/internal/ssa"
)

// csaLive is a ConfigMap as kubectl's client-side apply of {data: {a, b}} leaves
// it, with FIELDS as its managed fields and LAST as its last-applied annotation.
func csaLive(t testing.TB, fields, last string) *unstructured.Unstructured {
	var fv any
	if json.Unmarshal([]byte(fields), &fv) != nil {
		fv = map[string]any{}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": "old", "annotations": map[string]any{lastApplied: last},
			"managedFields": []any{map[string]any{
				"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
				"fieldsType": "FieldsV1", "fieldsV1": fv,
			}},
		},
		"data": map[string]any{"a": "1", "b": "2", "d": "defaulted"},
	}}
}

func TestLiveManagersMigrateDeclaredFields(t *testing.T) {
	live := csaLive(t, `{"f:data":{".":{},"f:a":{},"f:b":{},"f:d":{}}}`, `{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1","b":"2"}}`)
	managers, err := liveManagers(live, ssa.CSASet(nil), "gitopskit")
	require.NoError(t, err)
	id, err := managerID("gitopskit")
	require.NoError(t, err)
	require.Contains(t, managers, id)
	assert.Len(t, managers, 1, "the client-side apply entry is gone")
	var owned []string
	for _, k := range []string{"a", "b", "d"} {
		if managers[id].Set().Has(fieldpath.MakePathOrDie("data", k)) {
			owned = append(owned, k)
		}
	}
	assert.Equal(t, []string{"a", "b"}, owned, "d was the server's, not kubectl's")
	assert.Equal(t, "kubectl-client-side-apply", live.GetManagedFields()[0].Manager, "live is not modified")

	managers, err = liveManagers(live, ssa.CSASet([]string{}), "gitopskit")
	require.NoError(t, err)
	assert.NotContains(t, managers, id, "nothing migrates without client-side apply managers")
}

func FuzzLiveManagers(f *testing.F) {
	f.Add(`{"f:data":{".":{},"f:a":{},"f:b":{}}}`, `{"data":{"a":"1"}}`)
	f.Add(`{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}`, `{"spec":{"ports":[{"port":80}]}}`)
	f.Add(`{"f:spec":{"f:finalizers":{"v:\"x\"":{}}}}`, `{"spec":{"finalizers":"x"}}`)
	f.Add(`{"f:data":{"i:0":{}}}`, `[1,2]`)
	f.Fuzz(func(t *testing.T, fields, last string) {
		_, _ = liveManagers(csaLive(t, fields, last), ssa.CSASet(nil), "gitopskit")
	})
}
