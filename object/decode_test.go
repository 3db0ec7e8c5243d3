package object

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/yamlcheck"
)

func TestDecodeStreams(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		input string
		want  []string // "ID@line"
	}{
		{
			name: "multi-document YAML with blank, comment and null documents",
			file: "app.yaml",
			input: `# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: default
---
# only a comment
---

---
null
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
...
`,
			want: []string{"/ConfigMap/default/a@3", "apps/Deployment/default/web@15"},
		},
		{
			name:  "content on the separator line",
			file:  "a.yaml",
			input: "--- {apiVersion: v1, kind: Namespace, metadata: {name: prod}}\n",
			want:  []string{"/Namespace//prod@1"},
		},
		{
			name: "List flattened",
			file: "list.yaml",
			input: `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- apiVersion: v1
  kind: ConfigMapList
  items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
`,
			want: []string{"/ConfigMap//a@1", "/ConfigMap//b@1"},
		},
		{
			name:  "JSON stream",
			file:  "objs.json",
			input: "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}\n\n  {\"apiVersion\":\"v1\",\n\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"}}",
			want:  []string{"/ConfigMap//a@1", "/Secret//s@3"},
		},
		{
			name:  "JSON sniffed from stdin with a BOM",
			file:  "-",
			input: "\xEF\xBB\xBF {\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"r\"}}",
			want:  []string{"rbac.authorization.k8s.io/ClusterRole//r@1"},
		},
		{
			name:  "YAML flow mapping in a .yaml file is YAML",
			file:  "flow.yaml",
			input: "{apiVersion: v1, kind: ConfigMap, metadata: {name: f}}\n",
			want:  []string{"/ConfigMap//f@1"},
		},
		{
			name:  "windows line endings",
			file:  "crlf.yaml",
			input: "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: b\r\n",
			want:  []string{"/ConfigMap//a@1", "/ConfigMap//b@6"},
		},
		{name: "empty stream", file: "empty.yaml", input: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Decode(strings.NewReader(tt.input), tt.file)
			require.NoError(t, err)
			var got []string
			for _, m := range ms {
				assert.Equal(t, tt.file, m.Origin.File)
				got = append(got, IDOf(m.Object).String()+"@"+itoa(m.Origin.Line))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// Objects named by the server (generateName), such as Argo CD's and Helm's hook
// Jobs, are objects: each is a new one, so two alike are not duplicates.
func TestDecodeGenerateName(t *testing.T) {
	job := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  annotations: {argocd.argoproj.io/hook: PreSync}\n"
	for _, d := range []Decoder{{}, {Lenient: true}} {
		ms, err := d.Decode(strings.NewReader(job+"---\n"+job), "hooks.yaml")
		require.NoError(t, err)
		require.Len(t, ms, 2)
		assert.Equal(t, "migrate-", ms[1].Object.GetGenerateName())
		assert.Equal(t, 7, ms[1].Origin.Line)
	}
}

// A Lenient decoder reads a chart's output as Helm and kubectl do; the default
// refuses each of these in a file a person wrote.
func TestDecodeLenient(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		strictErr   string
		check       func(t *testing.T, ms []Manifest)
	}{{
		name:      "a key written twice: the last wins",
		input:     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {app: a}\n  labels: {app: b}\ndata: {k: '1'}\n",
		strictErr: `key "labels" already set in map`,
		check: func(t *testing.T, ms []Manifest) {
			assert.Equal(t, map[string]string{"app": "b"}, ms[0].Object.GetLabels())
		},
	}, {
		name: "label and annotation values that are not strings, in a List item too",
		input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" +
			"  labels: {version: 1.10, count: 3, enabled: true, answer: yes, none: null, empty: , same: 1.10, same: 2.50}\n" +
			"  annotations: {weight: -5, hex: 0x1F, checksum: 123456789012345678901234567890}\n" +
			"---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, labels: {v: 1.0}}\n",
		strictErr: `key "same" already set in map`,
		check: func(t *testing.T, ms []Manifest) {
			assert.Equal(t, map[string]string{"version": "1.10", "count": "3", "enabled": "true", "answer": "yes", "none": "", "empty": "", "same": "2.50"},
				ms[0].Object.GetLabels())
			assert.Equal(t, map[string]string{"weight": "-5", "hex": "0x1F", "checksum": "123456789012345678901234567890"}, ms[0].Object.GetAnnotations())
			assert.Equal(t, map[string]string{"v": "1.0"}, ms[1].Object.GetLabels())
		},
	}, {
		name:      "a JSON key written twice: the last wins",
		input:     `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"safe","namespace":"kube-system"}}`,
		strictErr: `metadata.namespace: key "namespace" is written twice`,
		check: func(t *testing.T, ms []Manifest) {
			assert.Equal(t, "kube-system", ms[0].Object.GetNamespace())
		},
	}, {
		name:      "documents that declare nothing are skipped",
		input:     "{}\n---\nmetadata: {labels: {}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		strictErr: "object has no apiVersion",
		check: func(t *testing.T, ms []Manifest) {
			require.Len(t, ms, 1)
			assert.Equal(t, 5, ms[0].Origin.Line)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			file := "out.yaml"
			if strings.HasPrefix(tc.input, "{\"") {
				file = "out.json"
			}
			_, err := Decode(strings.NewReader(tc.input), file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.strictErr)
			ms, err := Decoder{Lenient: true}.Decode(strings.NewReader(tc.input), file)
			require.NoError(t, err)
			tc.check(t, ms)
		})
	}
}

func TestDecodeKeepsTypes(t *testing.T) {
	ms, err := Decode(strings.NewReader(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  ratio: 0.5
  paused: false
`), "d.yaml")
	require.NoError(t, err)
	spec := ms[0].Object.Object["spec"].(map[string]any)
	assert.Equal(t, int64(3), spec["replicas"])
	assert.Equal(t, 0.5, spec["ratio"])
	assert.Equal(t, false, spec["paused"])
	assert.Equal(t, map[string]string{"app": "web"}, ms[0].Object.GetLabels())
}

func TestDecodeErrors(t *testing.T) {
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	tests := []struct {
		name     string
		file     string
		input    string
		decoder  Decoder
		sentinel error
		want     string // the whole error message
	}{
		{
			name:     "broken YAML names the absolute line",
			file:     "bad.yaml",
			input:    cm("a") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n   labels: x\n",
			sentinel: ErrInvalid,
			want:     "bad.yaml:10: invalid object: invalid YAML: mapping values are not allowed in this context",
		},
		{
			name:     "duplicate key",
			file:     "dup-key.yaml",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 1\n  k: 2\n",
			sentinel: ErrInvalid,
			want:     `dup-key.yaml:7: invalid object: invalid YAML: key "k" already set in map`,
		},
		{
			name:     "missing apiVersion",
			file:     "m.yaml",
			input:    cm("a") + "---\n\nkind: ConfigMap\nmetadata: {name: b}\n",
			sentinel: ErrInvalid,
			want:     "m.yaml:7: invalid object: object has no apiVersion",
		},
		{
			name:     "bad apiVersion",
			file:     "m.yaml",
			input:    "apiVersion: a/b/c\nkind: X\nmetadata: {name: b}\n",
			sentinel: ErrInvalid,
			want:     `m.yaml:1: invalid object: apiVersion "a/b/c": unexpected GroupVersion string: a/b/c`,
		},
		{
			name:     "missing kind",
			file:     "m.yaml",
			input:    "apiVersion: v1\nmetadata: {name: b}\n",
			sentinel: ErrInvalid,
			want:     "m.yaml:1: invalid object: object of apiVersion v1 has no kind",
		},
		{
			name:     "missing name",
			file:     "m.yaml",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n",
			sentinel: ErrInvalid,
			want:     "m.yaml:1: invalid object: ConfigMap has no metadata.name or metadata.generateName",
		},
		{
			name:     "name not a string",
			file:     "m.yaml",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 1}\n",
			sentinel: ErrInvalid,
			want:     "m.yaml:1: invalid object: ConfigMap: metadata.name: 1 is read as a number, not a string: quote it",
		},
		{
			name:     "lenient: label value a map",
			file:     "l.yaml",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: a-\n  labels: {version: {a: b}}\n",
			decoder:  Decoder{Lenient: true},
			sentinel: ErrInvalid,
			want:     "l.yaml:1: invalid object: ConfigMap a-*: metadata.labels.version is a map, not a string (quote it)",
		},
		{
			name:     "lenient: a document with a kind only",
			file:     "k.yaml",
			input:    "kind: ConfigMap\nmetadata: {name: a}\n",
			decoder:  Decoder{Lenient: true},
			sentinel: ErrInvalid,
			want:     "k.yaml:1: invalid object: object has no apiVersion",
		},
		{
			name:     "missing metadata",
			file:     "m.yaml",
			input:    "apiVersion: v1\nkind: ConfigMap\n",
			sentinel: ErrInvalid,
			want:     "m.yaml:1: invalid object: ConfigMap has no metadata",
		},
		{
			name:     "unquoted label value",
			file:     "l.yaml",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {version: 1.0}\n",
			sentinel: ErrInvalid,
			want:     "l.yaml:1: invalid object: ConfigMap a: metadata.labels.version is a number, not a string (quote it)",
		},
		{
			name:     "non-object document",
			file:     "s.yaml",
			input:    cm("a") + "---\n- just\n- a list\n",
			sentinel: ErrInvalid,
			want:     "s.yaml:6: invalid object: document is a list, not an object",
		},
		{
			name:     "scalar document",
			file:     "s.yaml",
			input:    "hello\n",
			sentinel: ErrInvalid,
			want:     "s.yaml:1: invalid object: document is a string, not an object",
		},
		{
			name:     "duplicate object",
			file:     "d.yaml",
			input:    cm("a") + "---\n" + cm("a"),
			sentinel: ErrDuplicate,
			want:     "d.yaml:6: duplicate object: configmap/a, first declared at d.yaml:1",
		},
		{
			name:     "List item not an object",
			file:     "l.yaml",
			input:    "apiVersion: v1\nkind: List\nitems: [1]\n",
			sentinel: ErrInvalid,
			want:     "l.yaml:1: invalid object: document is a number, not an object",
		},
		{
			name:     "broken JSON",
			file:     "b.json",
			input:    "{\"apiVersion\": \"v1\",\n \"kind\": }",
			sentinel: ErrInvalid,
			want:     "b.json:2: invalid object: invalid JSON: invalid character '}' looking for beginning of value",
		},
		{
			name:     "too many objects",
			file:     "n.yaml",
			input:    cm("a") + "---\n" + cm("b") + "---\n" + cm("c"),
			decoder:  Decoder{MaxObjects: 2},
			sentinel: ErrLimit,
			want:     "n.yaml:11: limit exceeded: more than 2 objects",
		},
		{
			name:     "document too large",
			file:     "big.yaml",
			input:    cm("a") + "data:\n  k: " + strings.Repeat("x", 200) + "\n",
			decoder:  Decoder{MaxDocumentBytes: 100},
			sentinel: ErrLimit,
			want:     "big.yaml:1: limit exceeded: document larger than 100 bytes",
		},
		{
			name:     "line too long for the document limit",
			file:     "long.yaml",
			input:    strings.Repeat("x", 1000),
			decoder:  Decoder{MaxDocumentBytes: 100},
			sentinel: ErrLimit,
			want:     "long.yaml:1: limit exceeded: document larger than 100 bytes",
		},
		{
			name:     "stream too large",
			file:     "s.yaml",
			input:    cm("a") + "---\n" + cm("b"),
			decoder:  Decoder{MaxBytes: 60},
			sentinel: ErrLimit,
			want:     "s.yaml:6: limit exceeded: stream larger than 60 bytes",
		},
		{
			name:     "JSON stream too large",
			file:     "s.json",
			input:    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`,
			decoder:  Decoder{MaxBytes: 10},
			sentinel: ErrLimit,
			want:     "s.json: limit exceeded: stream larger than 10 bytes",
		},
		{
			name:     "Lists nested too deep",
			file:     "deep.yaml",
			input:    "{kind: List, items: [{kind: List, items: [{kind: List, items: [{kind: List, items: [{kind: List, items: []}]}]}]}]}\n",
			sentinel: ErrLimit,
			want:     "deep.yaml:1: limit exceeded: Lists nested deeper than 4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := tt.decoder.Decode(strings.NewReader(tt.input), tt.file)
			require.Error(t, err)
			assert.Nil(t, ms)
			assert.Equal(t, tt.want, err.Error())
			assert.ErrorIs(t, err, tt.sentinel)
			var de *DecodeError
			require.True(t, errors.As(err, &de))
			assert.Equal(t, tt.file, de.Origin.File)
		})
	}
}

// A "billion laughs" document expands to gigabytes if aliases are followed blindly.
func TestDecodeRejectsAliasBomb(t *testing.T) {
	bomb := `apiVersion: v1
kind: ConfigMap
metadata: {name: bomb}
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`
	_, err := Decode(strings.NewReader(bomb), "bomb.yaml")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "bomb.yaml:")
	assert.Contains(t, err.Error(), "excessive aliasing")
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems: []\n"), "a.yaml")
	f.Add([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","labels":{"a":"b"}}} []`), "a.json")
	f.Add([]byte("--- {a: &a [1], b: *a}\n...\n---\n- x\n"), "b.yaml")
	f.Add([]byte("\xEF\xBB\xBF---\r\nkind: List\r\nitems: [{kind: X}]"), "-")
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {1: a, \"1\": b, yes: c}\nx: 99999999999999999999\n"), "c.yaml")
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"s","namespace":"k"},"x":[1e20,-9223372036854775809]}`), "d.json")
	f.Fuzz(func(t *testing.T, data []byte, file string) {
		d := Decoder{MaxDocumentBytes: 1 << 16, MaxObjects: 100, Lenient: len(file)%2 == 1}
		ms, err := d.Decode(bytes.NewReader(data), file)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		seen := NewSet()
		for _, m := range ms {
			id := IDOf(m.Object)
			if id.Kind == "" || id.Name == "" && m.Object.GetGenerateName() == "" || m.Object.GetAPIVersion() == "" {
				t.Fatalf("decoded an object without identity: %v", m.Object.Object)
			}
			if _, _, err := unstructured.NestedStringMap(m.Object.Object, "metadata", "labels"); err != nil {
				t.Fatalf("%s: labels are not strings: %v", id, err)
			}
			if seen.Has(id) {
				t.Fatalf("duplicate %s not rejected", id)
			}
			if id.Name != "" {
				seen.Add(id)
			}
			if hasHugeNumber(m.Object.Object) {
				continue // a float such as 1e20 encodes as an integer beyond int64, which is refused
			}
			// What was decoded encodes and decodes back to the same identity.
			js, err := json.Marshal(m.Object.Object)
			if err != nil {
				t.Fatalf("re-encode %s: %v", id, err)
			}
			again, err := d.Decode(bytes.NewReader(js), "again.json")
			if err != nil || len(again) != 1 || IDOf(again[0].Object) != id {
				t.Fatalf("round trip of %s: %v", id, err)
			}
		}
	})
}

// FuzzYAMLToJSON checks the YAML conversion against sigs.k8s.io/yaml's, which
// kubectl uses: where it converts a document, it gives the same JSON, and where
// it refuses one, so does sigs.k8s.io/yaml, or the document has two keys that
// become one (which sigs.k8s.io/yaml keeps at random) or an integer beyond int64.
func FuzzYAMLToJSON(f *testing.F) {
	for _, seed := range []string{
		"a: 1\nb: [x, {c: d}]\n",
		"1: a\n\"1\": b\n",
		"yes: a\ntrue: b\n",
		"1.0000001: a\n1.0000002: b\n",
		"x: 99999999999999999999\ny: 1e20\nz: 18446744073709551615\n",
		"a: &a {1: x}\nb:\n  <<: *a\n  '1': y\n",
		"? [a]\n: b\n",
		"a: .nan\n",
		"a: 2001-12-14\nb: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, doc []byte, lenient bool) {
		if len(doc) > 1<<12 || bytes.Contains(doc, []byte("\n---")) || bytes.Contains(doc, []byte("\n...")) {
			return
		}
		st := &stream{d: Decoder{Lenient: lenient}}
		got, err := st.yamlToJSON(doc, 1)
		want, wantErr := sigsyaml.YAMLToJSONStrict(doc)
		if lenient {
			want, wantErr = sigsyaml.YAMLToJSON(doc)
		}
		var ce *yamlcheck.Error
		switch {
		case err == nil && wantErr != nil:
			t.Fatalf("converted what sigs.k8s.io/yaml refuses (%v): %s", wantErr, got)
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("converted to\n%s\nsigs.k8s.io/yaml to\n%s", got, want)
		case errors.As(err, &ce):
			// YAML breaks lines at \n, \r\n and a lone \r.
			lines := 1 + bytes.Count(doc, []byte("\n")) + bytes.Count(doc, []byte("\r")) - bytes.Count(doc, []byte("\r\n"))
			if ce.Line < 1 || ce.Line > lines {
				t.Fatalf("error at line %d of a %d-line document: %v", ce.Line, lines, err)
			}
		case err != nil && wantErr == nil:
			t.Fatalf("refused what sigs.k8s.io/yaml converts to %s: %v", want, err)
		}
	})
}

func itoa(i int) string { return Origin{Line: i}.String()[1:] }
