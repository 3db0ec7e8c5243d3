package object

import (
	"bytes"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// fullPath decodes doc as Decode did before the fast path: YAML to JSON, then
// JSON to a value.
func fullPath(doc []byte, lenient bool) (any, error) {
	st := &stream{d: Decoder{Lenient: lenient}}
	js, err := st.yamlToJSON(doc, 1)
	if err != nil {
		return nil, err
	}
	var v any
	return v, utiljson.Unmarshal(js, &v)
}

// sameAsFullPath fails t when the fast path decodes doc differently from the
// full path, strict or lenient, and reports whether it took the fast path.
func sameAsFullPath(t *testing.T, doc []byte) bool {
	t.Helper()
	got, ok := fastYAML(doc)
	if !ok {
		return false
	}
	for _, lenient := range []bool{false, true} {
		want, err := fullPath(doc, lenient)
		if err != nil {
			t.Fatalf("fast path decoded what the full path refuses (lenient %t: %v):\n%s\nto %#v", lenient, err, doc, got)
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Fatalf("fast path decoded\n%s\nto   %#v\nfull %#v", doc, got, want)
		}
	}
	return true
}

// fastSeeds are documents in the shapes the fast path reads, and some it
// leaves to the full path.
var fastSeeds = []string{
	`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/version: "2.4.1"
    team: platform
  annotations:
    checksum/config: 5f1e3b0c # a comment
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: main
          image: "registry.example.com/svc:1.0.0"
          ports:
            - {name: http, containerPort: 8000}
          env:
            - name: A
              value: 'it''s'
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: "1", memory: 512Mi}
      volumes:
      - name: config
        configMap: {name: web}
`,
	"data:\n  settings.yaml: |\n    listen: \":8000\"\n\n    upstreams: [a, b]\n\n  other: |-\n    x\n      indented\n     \n\n  keep: |\n    a\n\n\n  empty: \"\"\n",
	"a: [1, -2, 1.5, 1.0, 0.1, 1e3, 0x1F, 017, 08, +1, .5, 1_000, 2001-12-14, 1.2.3, 100m]\nb: {}\nc: []\nd:\ne: ~\n",
	"a: [yes, no, on, off, y, n, true, False, null, NULL]\n",
	"a: \"\\x41\\u00e9\\t\\\"\\\\\\e\"\nb: 'x''y'\n\"q\": 1\n'r': 2\n",
	"a:\n- b: 1\n  c: 2\n-\n  d: 3\n- x\n",
	"a: b # c\n#d\n\n  # e\nf: g\n",
}

// fullSeeds are documents the fast path leaves to the full path.
var fullSeeds = []string{
	"- a\n- b\n",
	"a:\n- - x\n",
	"a: b\n  c\n",
	"a: &x 1\nb: *x\n",
	"a: 1\na: 2\n",
	"1: a\n\"1\": b\n",
	"x: 99999999999999999999\ny: 1e20\nz: 18446744073709551615\n",
	"a: |\n  x\n b: c\n",
	"a: >\n  folded\n",
	"a: ...\nb: ---x\nc: -\n",
	"a: [.inf, -.inf, .nan]\n",
	"a: \"\\/\"\n",
	"a: b",
}

func FuzzFastYAML(f *testing.F) {
	for _, s := range append(fastSeeds, fullSeeds...) {
		f.Add([]byte(s))
	}
	// The documents of the YAML files the renderers' tests read.
	_ = filepath.WalkDir("../render", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".yaml") || !strings.Contains(name, "testdata") {
			return nil
		}
		data, err := os.ReadFile(name)
		if err != nil || len(data) > 1<<14 {
			return nil
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			f.Add(append(bytes.TrimPrefix(doc, []byte("\n")), '\n'))
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 1<<14 {
			return
		}
		sameAsFullPath(t, doc)
	})
}

// TestFastYAMLReads checks that the fast path reads the shapes of rendered
// manifests, so that they do not all take the full path unnoticed.
func TestFastYAMLReads(t *testing.T) {
	for _, s := range fastSeeds {
		if _, ok := fastYAML([]byte(s)); !ok {
			t.Errorf("takes the full path:\n%s", s)
		}
	}
	for _, s := range fullSeeds {
		if _, ok := fastYAML([]byte(s)); ok {
			t.Errorf("does not take the full path:\n%s", s)
		}
	}
}

// TestFastYAMLGenerated compares the fast path with the full path on documents
// made of random mappings, sequences, literal blocks and scalars, many of which
// the fast path must leave to the full one.
func TestFastYAMLGenerated(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	fast := 0
	for range 20000 {
		var b strings.Builder
		genMap(r, &b, r.Intn(2), 0)
		doc := []byte(b.String())
		if sameAsFullPath(t, doc) {
			fast++
		}
	}
	if fast < 1000 {
		t.Fatalf("only %d of 20,000 generated documents took the fast path", fast)
	}
}

// genScalars and genKeys are what generated documents are made of: scalars
// of every kind the fast path reads, and some it must not.
var genScalars = []string{"a", "b c", "1", "-1", "0", "01", "08", "1.0", "1.5", "-0", "1e3", "0x1F", "0o7", "0b11", "+1", ".5", "1_000",
	"yes", "No", "on", "~", "null", "true", "y", "n", "2001-12-14", "1.2.3", "100m", "128Mi", "a:b", "a: b", "a #b", "a#b", "-a", "- a",
	"'q'", "\"q\"", "\"a\\nb\"", "'it''s'", "\"\\x41\"", "\"\\/\"", "[a, b]", "{a: 1}", "[]", "{}", "[a, [b, {c: d}]]", "{a: [1, 2]}",
	"<<", ".inf", "99999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e20", "0.1", "3.0e2",
	"*a", "&a b", "!x y", "%a", "@a", "`a", "?a", ":a", "|", ">", "a:", "x ", "...", "---", "- ", "a, b", "[a,]", "{a}", "{a: }", "\"\"", "''",
	"12:30", "1:2:3", "0.", "-.5", "1__0", "0x_1", "+.5", "-0b1", "0b2", "1e", "e1", "0x", "-", "1-2", "Infinity", "NaN", ".NaN", "+.inf"}

var genKeys = []string{"a", "b", "c", "apiVersion", "kind", "metadata", "name", "x y", "\"q\"", "'r'", "1", "yes", "-a", "a.b/c", "<<", "~", "\"a\"", "a"}

func genNode(r *rand.Rand, b *strings.Builder, indent, depth int, inSeq bool) {
	pad := strings.Repeat(" ", indent)
	switch k := r.Intn(10); {
	case depth > 3 || k < 4:
		b.WriteString(" " + genScalars[r.Intn(len(genScalars))] + "\n")
	case k < 5:
		b.WriteString(" |" + []string{"", "-", "+", "2"}[r.Intn(4)] + "\n")
		n := 1 + r.Intn(3)
		step := 1 + r.Intn(3)
		for i := 0; i < n; i++ {
			switch r.Intn(5) {
			case 0:
				b.WriteString("\n")
			case 1:
				b.WriteString(pad + strings.Repeat(" ", step+r.Intn(3)) + "x y\n")
			default:
				b.WriteString(pad + strings.Repeat(" ", step) + genScalars[r.Intn(len(genScalars))] + "\n")
			}
		}
	case k < 8:
		b.WriteString("\n")
		step := r.Intn(4)
		if step == 0 && inSeq {
			step = 2
		}
		genMap(r, b, indent+step, depth+1)
	default:
		b.WriteString("\n")
		genSeq(r, b, indent+r.Intn(3), depth+1)
	}
}

func genMap(r *rand.Rand, b *strings.Builder, indent, depth int) {
	n := 1 + r.Intn(4)
	for i := 0; i < n; i++ {
		if r.Intn(8) == 0 {
			b.WriteString(strings.Repeat(" ", r.Intn(6)) + "# c\n")
		}
		b.WriteString(strings.Repeat(" ", indent) + genKeys[r.Intn(len(genKeys))] + ":")
		genNode(r, b, indent, depth, false)
	}
}

func genSeq(r *rand.Rand, b *strings.Builder, indent, depth int) {
	n := 1 + r.Intn(3)
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", indent) + "-")
		if r.Intn(2) == 0 {
			gap := 1 + r.Intn(2)
			b.WriteString(strings.Repeat(" ", gap) + genKeys[r.Intn(len(genKeys))] + ":")
			genNode(r, b, indent+1+gap, depth, false)
			if r.Intn(2) == 0 {
				b.WriteString(strings.Repeat(" ", indent+1+gap) + genKeys[r.Intn(len(genKeys))] + ":")
				genNode(r, b, indent+1+gap, depth, false)
			}
		} else {
			genNode(r, b, indent, depth, true)
		}
	}
}
