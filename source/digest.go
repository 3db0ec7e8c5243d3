package source

import (
	"context"
	"crypto/sha1" // Git blob ids; the digest itself is SHA-256
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// Digest returns "sha256:<hex>" over the files of fsys (see [Digester]), reading
// every regular file. Timestamps and ownership are ignored, so the same tree
// checked out twice, or served by different sources, has the same digest.
func Digest(ctx context.Context, fsys fs.FS) (string, error) {
	var d Digester
	content := sha1.New()
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch t := e.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			if rl, ok := fsys.(fs.ReadLinkFS); ok {
				target, err := rl.ReadLink(p)
				if err != nil {
					return err
				}
				d.AddSymlink(p, target)
				return nil
			}
		case !t.IsRegular():
			return fmt.Errorf("%s: unsupported file type %s", p, t)
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		id, err := blobID(fsys, p, info.Size(), content)
		if err != nil {
			return err
		}
		d.AddFile(p, info.Mode()&0o111 != 0, id)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return d.Sum(), nil
}

// Digester computes an artifact digest from its entries, in any order: SHA-256 over
// one record per entry in lexical path order (as [fs.WalkDir] visits them). A
// record is a kind byte ('f' a regular file, 'x' an executable one, 'l' a symbolic
// link) and two fields, each preceded by its length as a uvarint: the path, and
// the file's Git blob id (SHA-1 of "blob <size>\x00" and the content) or the
// link's target. The lengths make the encoding unambiguous: no name or link
// target, whatever bytes it holds (a newline, a NUL), can make two different
// trees encode alike. A Git source can so compute the digest from its tree
// without reading files back, and equals [Digest] over the checkout. The zero
// value is ready to use.
type Digester struct {
	records []digestRecord
}

type digestRecord struct{ key, data string }

// AddFile records a regular file by its Git blob id.
func (d *Digester) AddFile(path string, executable bool, blobID string) {
	kind := byte('f')
	if executable {
		kind = 'x'
	}
	d.add(kind, path, blobID)
}

// AddSymlink records a symbolic link and its target.
func (d *Digester) AddSymlink(path, target string) {
	d.add('l', path, target)
}

func (d *Digester) add(kind byte, path, value string) {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(path)+len(value))
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(path)))
	b = append(b, path...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	b = append(b, value...)
	// "/" sorts below every name byte as NUL does, giving fs.WalkDir's order.
	d.records = append(d.records, digestRecord{strings.ReplaceAll(path, "/", "\x00"), string(b)})
}

// encode writes the records in order; Sum hashes what it writes.
func (d *Digester) encode(w io.Writer) {
	sort.Slice(d.records, func(i, j int) bool {
		a, b := d.records[i], d.records[j]
		return a.key < b.key || a.key == b.key && a.data < b.data
	})
	for _, r := range d.records {
		io.WriteString(w, r.data)
	}
}

// Sum returns "sha256:<hex>" over the entries added so far.
func (d *Digester) Sum() string {
	h := sha256.New()
	d.encode(h)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func blobID(fsys fs.FS, p string, size int64, h interface {
	io.Writer
	Sum([]byte) []byte
	Reset()
}) (string, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h.Reset()
	fmt.Fprintf(h, "blob %d\x00", size)
	n, err := io.Copy(h, f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if n != size {
		return "", fmt.Errorf("%s: changed while reading", p)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
