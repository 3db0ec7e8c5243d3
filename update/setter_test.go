package update

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var testImages = []Image{
	{Policy: "apps:app", Name: "registry.example.com/team/app", Tag: "1.2.0"},
	{Policy: "apps:pinned", Name: "registry.example.com/team/pinned", Tag: "2.0.0", Digest: "sha256:" + strings.Repeat("ab", 32)},
	{Policy: "nginx", Name: "nginx", Tag: "1.27.1"},
}

func TestSetterMarkers(t *testing.T) {
	in := `# values for the app chart
image:
  repository: registry.example.com/team/app # {"$imagepolicy": "apps:app:name"}
  tag: "1.0.0" # {"$imagepolicy": "apps:app:tag"}
  # unmarked: must stay
  other: registry.example.com/team/app:0.1.0
full: registry.example.com/team/app:1.0.0 # {"$imagepolicy": "apps:app"}
pinned: 'registry.example.com/team/pinned:1.0.0'   # {"$imagepolicy": "apps:pinned"}
digest: sha256:00 # {"$imagepolicy": "apps:pinned:digest"}
list: [a, registry.example.com/team/app:0.9, c] # {"$imagepolicy": "apps:app"}
seq:
  - old # {"$imagepolicy": "apps:app:tag"}
unknown: x:1 # {"$imagepolicy": "apps:nope"}
notjson: y:1 # {"$imagepolicy": apps:app}
`
	want := `# values for the app chart
image:
  repository: registry.example.com/team/app # {"$imagepolicy": "apps:app:name"}
  tag: "1.2.0" # {"$imagepolicy": "apps:app:tag"}
  # unmarked: must stay
  other: registry.example.com/team/app:0.1.0
full: registry.example.com/team/app:1.2.0 # {"$imagepolicy": "apps:app"}
pinned: 'registry.example.com/team/pinned:2.0.0@sha256:abababababababababababababababababababababababababababababababab'   # {"$imagepolicy": "apps:pinned"}
digest: sha256:abababababababababababababababababababababababababababababababab # {"$imagepolicy": "apps:pinned:digest"}
list: [a, registry.example.com/team/app:0.9, c] # {"$imagepolicy": "apps:app"}
seq:
  - 1.2.0 # {"$imagepolicy": "apps:app:tag"}
unknown: x:1 # {"$imagepolicy": "apps:nope"}
notjson: y:1 # {"$imagepolicy": apps:app}
`
	s := &Setter{Images: testImages, Fields: Markers}
	out, edits, err := s.Set("values.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	lines := []int{}
	for _, e := range edits {
		lines = append(lines, e.Line)
		if e.File != "values.yaml" || e.Old == e.New {
			t.Errorf("edit %+v", e)
		}
	}
	if got := fmt.Sprint(lines); got != "[4 7 8 9 12]" {
		t.Fatalf("edited lines %s, want [4 7 8 9 12]", got)
	}
	// Setting again changes nothing and returns the same bytes.
	again, edits, err := s.Set("values.yaml", out)
	if err != nil || len(edits) != 0 || !bytes.Equal(again, out) {
		t.Fatalf("second Set: %d edits, %v", len(edits), err)
	}
}

func TestSetterContainers(t *testing.T) {
	in := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # a comment
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: "registry.example.com/team/app:1.0.0"
      containers:
        - {name: app, image: registry.example.com/team/app:1.0.0}
        - name: proxy
          image: nginx:1.25   # public image, Docker Hub
        - name: sidecar
          image: registry.example.com/team/other:1.0.0
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: job}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            image: registry.example.com/team/pinned:1.0.0@sha256:0000
---
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-workload}
data:
  image: registry.example.com/team/app:1.0.0
`
	want := strings.NewReplacer(
		`"registry.example.com/team/app:1.0.0"`, `"registry.example.com/team/app:1.2.0"`,
		`{name: app, image: registry.example.com/team/app:1.0.0}`, `{name: app, image: registry.example.com/team/app:1.2.0}`,
		`nginx:1.25 `, `nginx:1.27.1 `,
		`pinned:1.0.0@sha256:0000`, `pinned:2.0.0@`+testImages[1].Digest,
	).Replace(in)
	out, edits, err := (&Setter{Images: testImages, Fields: Containers}).Set("deploy.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if len(edits) != 4 || edits[2].Old != "nginx:1.25" || edits[2].New != "nginx:1.27.1" || edits[2].Policy != "nginx" || edits[2].Line != 14 {
		t.Fatalf("edits %+v", edits)
	}
}

func TestSetterKustomization(t *testing.T) {
	in := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deploy.yaml]
images:
  - name: app
    newName: registry.example.com/team/app
    newTag: 1.0.0 # bumped by the updater
  - name: registry.example.com/team/pinned
    digest: sha256:0000
  - name: nginx
    newName: nginx
  - name: registry.example.com/team/app
    newName: elsewhere/app
    newTag: keep
`
	want := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deploy.yaml]
images:
  - name: app
    newName: registry.example.com/team/app
    newTag: 1.2.0 # bumped by the updater
  - name: registry.example.com/team/pinned
    newTag: 2.0.0
    digest: ` + testImages[1].Digest + `
  - name: nginx
    newTag: 1.27.1
    newName: nginx
  - name: registry.example.com/team/app
    newName: elsewhere/app
    newTag: keep
`
	out, edits, err := (&Setter{Images: testImages}).Set("overlays/prod/kustomization.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if len(edits) != 4 {
		t.Fatalf("edits %+v", edits)
	}

	// An unpinned policy removes a stale digest so the new tag takes effect.
	unpin := "images:\n- name: nginx\n  newTag: 1.0 # old\n  digest: sha256:0000 # stale\n"
	out, _, err = (&Setter{Images: testImages}).Set("kustomization.yml", []byte(unpin))
	if err != nil || string(out) != "images:\n- name: nginx\n  newTag: \"1.27.1\" # old\n" && string(out) != "images:\n- name: nginx\n  newTag: 1.27.1 # old\n" {
		t.Fatalf("unpin: %q, %v", out, err)
	}
	// Not a kustomization: a ConfigMap that happens to have images is left alone.
	cm := "kind: ConfigMap\nimages:\n- name: nginx\n  newTag: 1.0\n"
	out, edits, err = (&Setter{Images: testImages}).Set("cm.yaml", []byte(cm))
	if err != nil || len(edits) != 0 || string(out) != cm {
		t.Fatalf("configmap edited: %q %v", out, err)
	}
}

func TestSetterStyles(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"t: 1.0 # {\"$imagepolicy\": \"float:tag\"}\n", "t: \"1.30\" # {\"$imagepolicy\": \"float:tag\"}\n"}, // a string, not a number
		{"t: [x] # {\"$imagepolicy\": \"comma\"}\n", "t: [x] # {\"$imagepolicy\": \"comma\"}\n"},              // not a scalar
		{"t: [x, y] # {\"$imagepolicy\": \"comma:tag\"}\n", "t: [x, y] # {\"$imagepolicy\": \"comma:tag\"}\n"},
		{"t: 'x' # {\"$imagepolicy\": \"nginx:tag\"}\r\nu: 1\r\n", "t: '1.27.1' # {\"$imagepolicy\": \"nginx:tag\"}\r\nu: 1\r\n"},
		{"t:\n  # head\n  \"x\\\"y\"   # {\"$imagepolicy\": \"nginx\"}\n", "t:\n  # head\n  \"nginx:1.27.1\"   # {\"$imagepolicy\": \"nginx\"}\n"},
		{"ünï: cödé # {\"$imagepolicy\": \"nginx:tag\"}\n", "ünï: 1.27.1 # {\"$imagepolicy\": \"nginx:tag\"}\n"},
		{"t: x # {\"$imagepolicy\": \"nginx:tag\"}", "t: 1.27.1 # {\"$imagepolicy\": \"nginx:tag\"}"},
	} {
		images := append(testImages, Image{Policy: "float", Name: "f", Tag: "1.30"}, Image{Policy: "comma", Name: "c", Tag: "a,b"})
		out, _, err := (&Setter{Images: images}).Set("f.yaml", []byte(tc.in))
		if err != nil || string(out) != tc.want {
			t.Errorf("Set(%q) = %q, %v; want %q", tc.in, out, err, tc.want)
		}
	}
}

func TestSetterErrors(t *testing.T) {
	s := &Setter{Images: testImages}
	if _, _, err := s.Set("bad.yaml", []byte("a: [\n")); !errors.Is(err, ErrSet) || !errors.Is(err, ErrNotYAML) || !strings.Contains(err.Error(), "bad.yaml") {
		t.Fatalf("bad YAML: %v", err)
	}
	block := "t: |  # {\"$imagepolicy\": \"nginx\"}\n  nginx:1.0\n"
	_, _, err := s.Set("block.yaml", []byte(block))
	if !errors.Is(err, ErrSet) || errors.Is(err, ErrNotYAML) || !strings.Contains(err.Error(), "block.yaml:1") {
		t.Fatalf("block scalar: %v", err)
	}
	flow := "images: [{name: nginx, newName: nginx}]\n"
	if _, _, err := s.Set("kustomization.yaml", []byte(flow)); !errors.Is(err, ErrSet) {
		t.Fatalf("flow insert: %v", err)
	}
}
