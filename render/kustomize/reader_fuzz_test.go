package kustomize

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzTagOrigin checks that marking a resource file never changes what its
// documents say: with the origin field removed, the marked file decodes to the
// same values as the original.
func FuzzTagOrigin(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		"# c\n---\napiVersion: v1\nkind: List\nitems:\n  - {kind: A}\n  - kind: B\n---\n---\n",
		`{"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "line\nline"}}`,
		"a: &x {b: 1}\nc: *x\nd: |+\n  kept\n\n",
		"- not\n- a map\n",
		"x: [\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, cerr := tagOrigin(data, "dir/file.yaml")
		if cerr != nil {
			// YAML breaks lines at \n, \r\n and a lone \r.
			lines := 1 + bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n"))
			if cerr.Line < 1 || cerr.Line > lines || cerr.Msg == "" {
				t.Fatalf("refusal at line %d of a %d-line file: %q", cerr.Line, lines, cerr.Msg)
			}
			return
		}
		if bytes.Equal(out, data) {
			return
		}
		want, err := untagged(data)
		if err != nil {
			// Not values Go can hold (a duplicate key, a map as a key): the marked
			// file must be as bad, for kustomize to refuse it alike.
			if _, err := untagged(out); err == nil {
				t.Fatalf("marking repaired a bad file:\n%q\nbecame\n%q", data, out)
			}
			return
		}
		got, err := untagged(out)
		if err != nil {
			t.Fatalf("marked file does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("marking changed the documents:\n%q\nbecame\n%q", data, out)
		}
	})
}
