package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/discovery"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff/internal/builtin"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// typesJSON is the JSON form of ts, for comparison.
func typesJSON(t *testing.T, version string, ts []smdschema.TypeDef) []byte {
	b, err := builtin.EncodeTypes(version, ts)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	return raw
}

// The embedded files are what the generator writes from the documents of the
// Kubernetes version go.mod names: run `go generate ./diff/internal/builtin` after
// changing it.
func TestEmbeddedSchemasAreCurrent(t *testing.T) {
	version, err := KubernetesVersion()
	require.NoError(t, err)
	assert.Equal(t, clustertest.KubernetesVersion, version, "clustertest runs another Kubernetes than the schemas describe")
	dir, err := DocsDir(version)
	require.NoError(t, err)
	docs, err := ReadDocs(dir)
	require.NoError(t, err)
	out, err := Generate(docs, version)
	require.NoError(t, err)

	ix, err := builtin.LoadIndex()
	require.NoError(t, err)
	assert.Equal(t, out.Index, ix, "kinds.json.gz is stale: run go generate ./diff/internal/builtin")
	ts, err := builtin.LoadTypes()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(typesJSON(t, version, out.Types), typesJSON(t, version, ts)), "schemas.json.gz is stale: run go generate ./diff/internal/builtin")
	index, types := builtin.Sizes()
	t.Logf("%s: %d kinds, %d types; embedded index %d bytes, types %d bytes", version, len(ix.Kinds), len(ts), index, types)
}

// The shipped schemas are the API server's: every kind and type the v1.37.2 API
// server of clustertest publishes (the APIs it enables by default) is shipped, the
// same.
func TestSchemasMatchCluster(t *testing.T) {
	dc, err := discovery.NewDiscoveryClientForConfig(cluster.Config(t))
	require.NoError(t, err)
	paths, err := dc.OpenAPIV3().Paths()
	require.NoError(t, err)
	docs := map[string][]byte{}
	for p, gv := range paths {
		if p != "api/v1" && (!strings.HasPrefix(p, "apis/") || strings.Count(p, "/") != 2) {
			continue // not a group-version document
		}
		b, err := gv.Schema("application/json")
		require.NoError(t, err, p)
		docs[strings.TrimPrefix(strings.TrimPrefix(p, "apis/"), "api/")] = b
	}
	require.Contains(t, docs, "apps/v1")
	served, err := Generate(docs, clustertest.KubernetesVersion)
	require.NoError(t, err)

	ix, err := builtin.LoadIndex()
	require.NoError(t, err)
	shipped := map[string]builtin.Kind{}
	for _, k := range ix.Kinds {
		shipped[k.GroupVersionKind().String()] = k
	}
	for _, k := range served.Index.Kinds {
		assert.Equal(t, k, shipped[k.GroupVersionKind().String()], "kind %s", k.GroupVersionKind())
	}
	ts, err := builtin.LoadTypes()
	require.NoError(t, err)
	byName := map[string]smdschema.TypeDef{}
	for _, td := range ts {
		byName[td.Name] = td
	}
	for _, td := range served.Types {
		want, ok := byName[td.Name]
		if !assert.True(t, ok, "type %s is not shipped", td.Name) {
			continue
		}
		assert.JSONEq(t, string(typesJSON(t, "", []smdschema.TypeDef{td})), string(typesJSON(t, "", []smdschema.TypeDef{want})), "type %s", td.Name)
	}
	for name, fields := range served.Index.Fields {
		assert.Equal(t, fields, ix.Fields[name], "fields of %s", name)
	}
	t.Logf("the cluster serves %d kinds and %d types; all shipped alike", len(served.Index.Kinds), len(served.Types))
}
