package source

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// TestDigestUnambiguous: names and link targets holding newlines cannot make two
// different trees share a digest (before, a link "a" -> "t\nf b" next to a file
// "c" encoded as a link "a" -> "t" next to a file named "b\nf c").
func TestDigestUnambiguous(t *testing.T) {
	ctx := context.Background()
	d1, d2 := t.TempDir(), t.TempDir()
	writeTree(t, d1, map[string]string{"a": "->t\nf b", "c": "same"})
	writeTree(t, d2, map[string]string{"a": "->t", "b\nf c": "same"})
	g1, err := Digest(ctx, DirFS(d1))
	must(t, err)
	g2, err := Digest(ctx, DirFS(d2))
	must(t, err)
	if g1 == g2 {
		t.Fatalf("two different trees share the digest %s", g1)
	}
}

// digestEntry is one entry a Digester records.
type digestEntry struct {
	kind        byte // 'f', 'x' or 'l'
	path, value string
}

// entriesFrom decodes fuzz bytes into entries: a kind byte, then the path and
// the value, each a length byte and that many bytes (any bytes: NULs, newlines).
func entriesFrom(b []byte) []digestEntry {
	var es []digestEntry
	field := func() (string, bool) {
		if len(b) == 0 || int(b[0]) > len(b)-1 {
			return "", false
		}
		n := int(b[0])
		s := string(b[1 : 1+n])
		b = b[1+n:]
		return s, true
	}
	for len(b) > 0 {
		kind := "fxl"[int(b[0])%3]
		b = b[1:]
		p, ok := field()
		if !ok {
			break
		}
		v, ok := field()
		if !ok {
			break
		}
		es = append(es, digestEntry{kind, p, v})
	}
	return es
}

func encodeEntries(es []digestEntry) []byte {
	var d Digester
	for _, e := range es {
		if e.kind == 'l' {
			d.AddSymlink(e.path, e.value)
		} else {
			d.AddFile(e.path, e.kind == 'x', e.value)
		}
	}
	var buf bytes.Buffer
	d.encode(&buf)
	return buf.Bytes()
}

func sortedEntries(es []digestEntry) []digestEntry {
	es = slices.Clone(es)
	slices.SortFunc(es, func(a, b digestEntry) int {
		return strings.Compare(string(a.kind)+"\x00"+a.path+"\x00"+a.value, string(b.kind)+"\x00"+b.path+"\x00"+b.value)
	})
	return es
}

// FuzzDigesterEncoding: two entry lists that differ (other than in order) never
// encode to the same byte stream, whatever bytes their paths and values hold.
func FuzzDigesterEncoding(f *testing.F) {
	// Kinds: 0 'f', 1 'x', 2 'l'.
	f.Add([]byte("\x02\x01a\x05t\nf b"+"\x00\x01c\x04same"), []byte("\x02\x01a\x01t"+"\x00\x05b\nf c\x04same"))
	f.Add([]byte("\x00\x01a\x011\x01\x01a\x011"), []byte("\x01\x01a\x011\x00\x01a\x011"))
	f.Add([]byte("\x02\x03a/b\x00"), []byte("\x02\x01a\x00\x02\x01b\x00"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ea, eb := sortedEntries(entriesFrom(a)), sortedEntries(entriesFrom(b))
		if slices.Equal(ea, eb) {
			return
		}
		if bytes.Equal(encodeEntries(ea), encodeEntries(eb)) {
			t.Fatalf("%q and %q encode alike", ea, eb)
		}
	})
}
