package sops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"maps"
	"sync"
	"time"
)

// decryptFS is an fs.FS whose regular files are read decrypted: a SOPS file
// reads as `sops -d` writes it. A file that does not decrypt reads as it is, and
// its error is kept (see failures), so that a renderer that reads the whole
// artifact (render/isolate streams it to its child) fails only on the files
// it renders. A file larger than the Decryptor's MaxBytes is handed on
// unread, for the renderer's own limits. Each file is decrypted once per
// render, however often it is opened or its size asked.
type decryptFS struct {
	ctx  context.Context
	fsys fs.FS
	d    *Decryptor

	mu        sync.Mutex
	files     map[string][]byte   // decrypted content by name; nil for a file that is not a SOPS file
	fails     map[string]error    // by file name
	decrypted map[[32]byte]string // the file each decrypted content came from, by its SHA-256
}

func newDecryptFS(ctx context.Context, fsys fs.FS, d *Decryptor) *decryptFS {
	return &decryptFS{ctx: ctx, fsys: fsys, d: d, files: map[string][]byte{}, fails: map[string]error{}, decrypted: map[[32]byte]string{}}
}

var (
	_ fs.ReadDirFS = (*decryptFS)(nil)
	_ fs.StatFS    = (*decryptFS)(nil)
)

func (f *decryptFS) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > f.d.maxSize {
		return file, err
	}
	out, read, err := f.decrypt(name, file)
	switch {
	case err != nil:
		file.Close()
		return nil, err
	case out != nil:
		file.Close()
		return &memFile{Reader: bytes.NewReader(out), info: sizedInfo{fi, int64(len(out))}}, nil
	case read != nil:
		return &readFile{File: file, r: io.MultiReader(bytes.NewReader(read), file)}, nil
	}
	return file, nil
}

func (f *decryptFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(f.fsys, name)
}

func (f *decryptFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(f.fsys, name)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > f.d.maxSize {
		return fi, err
	}
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return file.Stat()
}

// decrypt returns the decrypted content of the opened file name, or nil when
// it is not a SOPS file, does not decrypt, or has grown past MaxBytes. It reads
// at most MaxBytes+1 bytes of the file, and returns them as read when it read
// them and does not return a decrypted content.
func (f *decryptFS) decrypt(name string, file fs.File) (out, read []byte, err error) {
	f.mu.Lock()
	out, seen := f.files[name]
	f.mu.Unlock()
	if seen {
		return out, nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(file, f.d.maxSize+1))
	if err != nil {
		return nil, nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > f.d.maxSize {
		return nil, data, nil
	}
	out, err = f.d.Decrypt(f.ctx, name, data)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil:
		f.fails[name] = err
		out = nil
	case bytes.Equal(out, data):
		out = nil // not a SOPS file
	default:
		f.decrypted[sha256.Sum256(out)] = name
	}
	f.files[name] = out
	if out == nil {
		return nil, data, nil
	}
	return out, nil, nil
}

// decryptedFrom returns the file whose decrypted content is b, or "".
func (f *decryptFS) decryptedFrom(b []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.decrypted[sha256.Sum256(b)]
}

// failures returns the errors of the files that did not decrypt, by name.
func (f *decryptFS) failures() map[string]error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.fails)
}

// readFile is a file of which the first bytes were read already.
type readFile struct {
	fs.File
	r io.Reader
}

func (f *readFile) Read(p []byte) (int, error) { return f.r.Read(p) }

type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

// sizedInfo is a file's info with the size of its decrypted content.
type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64        { return s.size }
func (s sizedInfo) ModTime() time.Time { return s.FileInfo.ModTime() }
