package bounded

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestReadFile(t *testing.T) {
	fsys := fstest.MapFS{"small": {Data: []byte("12345")}, "big": {Data: []byte("123456")}}
	data, err := ReadFile(fsys, "small", 5)
	if err != nil || string(data) != "12345" {
		t.Fatalf("ReadFile(small) = %q, %v", data, err)
	}
	if _, err := ReadFile(fsys, "big", 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile(big) error = %v, want ErrTooLarge", err)
	}
	if _, err := ReadFile(fsys, "missing", 5); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile(missing) error = %v, want fs.ErrNotExist", err)
	}
}

// TestReadFileStopsAtLimit reads a file whose size its file system does not tell
// (as a pipe or a file that grows after its size was seen): the read stops one
// byte past the limit.
func TestReadFileStopsAtLimit(t *testing.T) {
	f := &endless{}
	_, err := ReadFile(oneFile{f}, "endless", 1000)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
	if f.read > 1001 {
		t.Fatalf("read %d bytes, want at most 1001", f.read)
	}
}

type oneFile struct{ f fs.File }

func (o oneFile) Open(string) (fs.File, error) { return o.f, nil }

// endless is a file of unknown size that never ends, counting what is read.
type endless struct{ read int }

func (e *endless) Read(b []byte) (int, error) {
	n := copy(b, strings.Repeat("x", len(b)))
	e.read += n
	return n, nil
}

func (e *endless) Stat() (fs.FileInfo, error) { return info{}, nil }
func (e *endless) Close() error               { return nil }

var _ io.Reader = (*endless)(nil)

type info struct{}

func (info) Name() string       { return "endless" }
func (info) Size() int64        { return 0 }
func (info) Mode() fs.FileMode  { return fs.ModeNamedPipe }
func (info) ModTime() time.Time { return time.Time{} }
func (info) IsDir() bool        { return false }
func (info) Sys() any           { return nil }
