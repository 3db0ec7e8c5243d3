package sops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"sync"
	"time"
)

// decryptFS is an fs.FS whose regular files are read decrypted: a SOPS file
// reads as `sops -d` writes it. A file that does not decrypt reads as it is, and
// its error is kept (see failures), so that a renderer that reads the whole
// artifact (render/isolate streams it to its child) fails only on the files
// it renders.
type decryptFS struct {
	ctx  context.Context
	fsys fs.FS
	d    *Decryptor

	mu        sync.Mutex
	fails     map[string]error    // by file name
	decrypted map[[32]byte]string // the file each decrypted content came from, by its SHA-256
}

var (
	_ fs.ReadFileFS = (*decryptFS)(nil)
	_ fs.ReadDirFS  = (*decryptFS)(nil)
	_ fs.StatFS     = (*decryptFS)(nil)
)

func (f *decryptFS) Open(name string) (fs.File, error) {
	file, err := f.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return file, err
	}
	defer file.Close()
	data, err := f.read(name, file, fi.Size())
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), info: sizedInfo{fi, int64(len(data))}}, nil
}

func (f *decryptFS) ReadFile(name string) ([]byte, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(file)
}

func (f *decryptFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(f.fsys, name)
}

func (f *decryptFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(f.fsys, name)
	if err != nil || !fi.Mode().IsRegular() {
		return fi, err
	}
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return file.Stat()
}

// read reads an opened file, decrypted when it is a SOPS file.
func (f *decryptFS) read(name string, file fs.File, size int64) ([]byte, error) {
	if size > f.d.maxSize {
		// Too large to be decrypted: handed on unread, for the renderer's limits.
		return io.ReadAll(file)
	}
	data, err := io.ReadAll(io.LimitReader(file, f.d.maxSize+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > f.d.maxSize {
		rest, err := io.ReadAll(file)
		return append(data, rest...), err
	}
	out, err := f.d.Decrypt(f.ctx, name, data)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.fails[name] = err
		return data, nil
	}
	if len(out) > 0 && !bytes.Equal(out, data) {
		f.decrypted[sha256.Sum256(out)] = name
	}
	return out, nil
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
	out := make(map[string]error, len(f.fails))
	for k, v := range f.fails {
		out[k] = v
	}
	return out
}

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
