package git

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// rawObject is one entry of a hand-made pack: its type, the size its header
// declares, its content (for a delta, its data) and a REF delta's base.
type rawObject struct {
	typ  plumbing.ObjectType
	size int64
	data []byte
	base plumbing.Hash
}

func blobEntry(content string) rawObject {
	return rawObject{typ: plumbing.BlobObject, size: int64(len(content)), data: []byte(content)}
}

// deltaEntry is a REF delta whose data declares the given base and target sizes
// (its instructions are left out: only the checker reads it).
func deltaEntry(base, target int64) rawObject {
	data := append(appendSize(nil, base), appendSize(nil, target)...)
	return rawObject{typ: plumbing.REFDeltaObject, size: int64(len(data)), data: data, base: plumbing.NewHash("1234567890123456789012345678901234567890")}
}

func appendSize(b []byte, n int64) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

func packOf(objs ...rawObject) []byte {
	var b bytes.Buffer
	b.WriteString("PACK")
	_ = binary.Write(&b, binary.BigEndian, uint32(2))
	_ = binary.Write(&b, binary.BigEndian, uint32(len(objs)))
	for _, o := range objs {
		c := byte(o.typ)<<4 | byte(o.size&0xf)
		n := o.size >> 4
		for n > 0 {
			b.WriteByte(c | 0x80)
			c, n = byte(n&0x7f), n>>7
		}
		b.WriteByte(c)
		if o.typ == plumbing.REFDeltaObject {
			b.Write(o.base[:])
		}
		z := zlib.NewWriter(&b)
		_, _ = z.Write(o.data)
		_ = z.Close()
	}
	sum := sha1.Sum(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// checkChunks writes pack to a packCheck in chunks of n bytes and returns its
// verdict.
func checkChunks(pack []byte, limit int64, n int) error {
	c := newPackCheck(limit)
	for len(pack) > 0 {
		k := min(n, len(pack))
		if _, err := c.Write(pack[:k]); err != nil {
			_ = c.Close()
			return err
		}
		pack = pack[k:]
	}
	return c.Close()
}

func TestPackCheck(t *testing.T) {
	const limit = 4096
	big := strings.Repeat("x", limit+1)
	for _, tc := range []struct {
		name string
		pack []byte
		want string // empty: accepted; else a part of the error
		size bool   // the error matches ErrSizeLimit
	}{
		{"small objects", packOf(blobEntry("a: 1\n"), blobEntry("b: 2\n")), "", false},
		{"delta within the limit", packOf(blobEntry("a"), deltaEntry(1, 100)), "", false},
		{"object over the limit", packOf(blobEntry("a"), blobEntry(big)), "pack object 2 of 2 (blob at offset 26): 4097 bytes", true},
		{"delta making an object over the limit", packOf(deltaEntry(10, 1<<40)),
			"pack object 1 of 1 (delta on 1234567890123456789012345678901234567890 at offset 12): 1099511627776 bytes", true},
		{"objects over the limit together", packOf(blobEntry(big[:2000]), blobEntry(big[:2000]), blobEntry(big[:2000])),
			"pack objects 1 to 2 of 3: more than 4096 bytes together", true},
		{"an object inflating past its declared size", packOf(rawObject{typ: plumbing.BlobObject, size: 10, data: []byte(big)}),
			packfile.ErrInflatedSizeMismatch.Error(), false},
		{"a truncated object", packOf(blobEntry(big[:100]))[:20], "pack object 1 of 1 (blob at offset 12): unexpected EOF", false},
		{"a truncated checksum", packOf(blobEntry(big[:100]))[:40], "pack: unexpected EOF", false},
		{"a bad signature", []byte("JUNK"), "pack: ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{1, 7, 1 << 20} {
				err := checkChunks(tc.pack, limit, n)
				switch {
				case tc.want == "" && err != nil:
					t.Fatalf("chunks of %d: %v", n, err)
				case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
					t.Fatalf("chunks of %d: %v, want an error with %q", n, err, tc.want)
				case errors.Is(err, ErrSizeLimit) != tc.size:
					t.Fatalf("chunks of %d: %v: ErrSizeLimit = %v, want %v", n, err, !tc.size, tc.size)
				}
			}
		})
	}
}

// FuzzPackCheck writes arbitrary bytes to the pack checker in chunks: it never
// panics or hangs, and whether it accepts a stream does not depend on how the
// stream is cut (which error it gives may: an object that both inflates past its
// header and makes a delta over the limit fails with the first one seen).
func FuzzPackCheck(f *testing.F) {
	f.Add(packOf(blobEntry("a: 1\n"), deltaEntry(5, 9)), 3, int64(1024))
	f.Add(packOf(blobEntry(strings.Repeat("z", 300))), 1, int64(100))
	f.Add(packOf(deltaEntry(1, 1<<50)), 2, int64(1<<20))
	f.Fuzz(func(t *testing.T, pack []byte, chunk int, limit int64) {
		if chunk < 1 || chunk > 1<<16 || limit < 0 {
			return
		}
		whole := checkChunks(pack, limit, len(pack)+1)
		cut := checkChunks(pack, limit, chunk)
		if (whole == nil) != (cut == nil) {
			t.Fatalf("whole: %v; in chunks of %d: %v", whole, chunk, cut)
		}
	})
}
