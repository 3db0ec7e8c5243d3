// Package bounded reads files of an artifact with a limit that holds while they
// are read, so that a giant file costs no more memory than the limit allows
// before it is refused.
package bounded

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
)

// ErrTooLarge means a file holds more bytes than the reader was allowed to read.
// Callers wrap it with the limit they enforce (render.ErrLimit) and the file.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads name from fsys, refusing a file of more than limit bytes with
// ErrTooLarge. It looks at the file's size first, then reads at most limit+1
// bytes, so that a file that grows, or whose size its file system does not tell,
// is refused without reading the rest of it. Other errors are fsys's.
func ReadFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if size > limit {
		return nil, ErrTooLarge
	}
	// Room for one byte more than the size found, so that a file that has not
	// grown is read without growing the buffer.
	var b bytes.Buffer
	b.Grow(int(size) + 1)
	if _, err := b.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > limit {
		return nil, ErrTooLarge
	}
	return b.Bytes(), nil
}
