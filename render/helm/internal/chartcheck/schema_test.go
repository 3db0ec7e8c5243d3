package chartcheck

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitopskit/gitopskit/render"
)

// TestSchema: values are checked against a chart's schema and its subcharts',
// with Helm's messages; a schema that refers to a file or a URL fails without
// reading the file or reaching the server.
func TestSchema(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Write([]byte(`{"type": "string"}`))
	}))
	defer srv.Close()
	secret := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(secret, []byte(`{"enum": ["the secret"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	const intReplicas = `{"type": "object", "properties": {"replicas": {"type": "integer"}}}`
	sub := Chart{Name: "sub", Schema: []byte(intReplicas)}
	for _, tc := range []struct {
		name     string
		chart    Chart
		values   map[string]any
		want     string // "" for none
		sentinel error
	}{
		{name: "valid", chart: Chart{Name: "c", Schema: []byte(intReplicas)}, values: map[string]any{"replicas": 2}},
		{name: "invalid", chart: Chart{Name: "c", Schema: []byte(intReplicas)}, values: map[string]any{"replicas": "many"},
			want: "values don't meet the specifications of the schema(s) in the following chart(s):\nc:\n- at '/replicas': got string, want integer\n"},
		{name: "subchart", chart: Chart{Name: "c", Dependencies: []Chart{sub}}, values: map[string]any{"sub": map[string]any{"replicas": "many"}},
			want: "values don't meet the specifications of the schema(s) in the following chart(s):\nsub:\n- at '/replicas': got string, want integer\n"},
		{name: "subchart values not a map", chart: Chart{Name: "c", Dependencies: []Chart{sub}}, values: map[string]any{"sub": "x"},
			want: "sub:\ninvalid type for values: expected object (map), got string\n"},
		{name: "a draft's meta-schema", chart: Chart{Name: "c", Schema: []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}`)},
			values: map[string]any{}},
		{name: "in-document reference", chart: Chart{Name: "c", Schema: []byte(`{"$defs": {"n": {"type": "integer"}}, "properties": {"r": {"$ref": "#/$defs/n"}}}`)},
			values: map[string]any{"r": "x"}, want: "- at '/r': got string, want integer"},
		{name: "urn reference", chart: Chart{Name: "c", Schema: []byte(`{"properties": {"r": {"$ref": "urn:example:thing"}}}`)},
			values: map[string]any{"r": "x"}},
		{name: "file", chart: Chart{Name: "c", Schema: []byte(`{"properties": {"r": {"$ref": "file://` + secret + `"}}}`)},
			values: map[string]any{"r": "x"}, want: "values schema refers to file://" + secret, sentinel: render.ErrOutsideRoot},
		{name: "relative path", chart: Chart{Name: "c", Schema: []byte(`{"properties": {"r": {"$ref": "etc/passwd"}}}`)},
			values: map[string]any{"r": "x"}, want: "values schema refers to file:///etc/passwd", sentinel: render.ErrOutsideRoot},
		{name: "URL", chart: Chart{Name: "c", Schema: []byte(`{"properties": {"r": {"$ref": "` + srv.URL + `/s.json"}}}`)},
			values: map[string]any{"r": "x"}, want: "values schema refers to " + srv.URL, sentinel: render.ErrRemote},
		{name: "base URL by $id", chart: Chart{Name: "c", Schema: []byte(`{"$id": "` + srv.URL + `/", "properties": {"r": {"$ref": "s.json"}}}`)},
			values: map[string]any{"r": "x"}, want: "values schema refers to " + srv.URL, sentinel: render.ErrRemote},
		{name: "not JSON", chart: Chart{Name: "c", Schema: []byte(`{`)}, values: map[string]any{}, want: "c:\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Schema(tc.chart, tc.values)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			case tc.sentinel != nil && !errors.Is(err, tc.sentinel):
				t.Errorf("error %v is not %v", err, tc.sentinel)
			case tc.sentinel == nil && (errors.Is(err, render.ErrRemote) || errors.Is(err, render.ErrOutsideRoot)):
				t.Errorf("error %v refers to a document", err)
			}
			if err != nil && strings.Contains(err.Error(), "the secret") {
				t.Errorf("the file was read: %v", err)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests to the schema server", n)
	}
}
