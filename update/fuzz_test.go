package update

import (
	"bytes"
	"testing"
)

// FuzzSetter runs the setter over arbitrary YAML: it never panics, and what it
// returns parses and changes nothing when set again.
func FuzzSetter(f *testing.F) {
	for _, seed := range []string{
		"image: nginx:1.0 # {\"$imagepolicy\": \"nginx\"}\n",
		"kind: Pod\nspec:\n  containers:\n  - {name: a, image: registry.example.com/team/app:1}\n",
		"images:\n- name: nginx\n  digest: sha256:00\n",
		"t: 'x''y' # {\"$imagepolicy\": \"apps:app:tag\"}\r\n",
		"a: &x [*x] # {\"$imagepolicy\": \"nginx\"}\n",
		"- \"a\\\"b\" # {\"$imagepolicy\": \"apps:pinned:digest\"}\n---\n- b\n",
		"t: |\n  x # {\"$imagepolicy\": \"nginx\"}\n",
	} {
		f.Add("kustomization.yaml", []byte(seed))
		f.Add("deploy.yaml", []byte(seed))
	}
	s := &Setter{Images: testImages}
	f.Fuzz(func(t *testing.T, file string, data []byte) {
		out, edits, err := s.Set(file, data)
		if err != nil {
			return
		}
		if len(edits) == 0 {
			if !bytes.Equal(out, data) {
				t.Fatal("no edits but the bytes changed")
			}
			return
		}
		if _, err := decodeAll(out); err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, out)
		}
		again, more, err := s.Set(file, out)
		if err != nil || len(more) != 0 || !bytes.Equal(again, out) {
			t.Fatalf("setting again: %d edits, %v\n%q\n%q", len(more), err, out, again)
		}
	})
}
