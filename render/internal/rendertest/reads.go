package rendertest

import (
	"io/fs"
	"sync"
)

// ReadCounter is an fs.FS that counts the bytes read from each of its files, so
// that a test can tell a file refused after a bounded read from one read whole.
// Every read goes through Open: it has no ReadFile method that would bypass it.
type ReadCounter struct {
	fsys  fs.FS
	mu    sync.Mutex
	bytes map[string]int64
}

// CountReads returns fsys counting its reads.
func CountReads(fsys fs.FS) *ReadCounter {
	return &ReadCounter{fsys: fsys, bytes: map[string]int64{}}
}

// Read returns how many bytes were read from name so far.
func (c *ReadCounter) Read(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes[name]
}

// Open opens name, counting what is read from it.
func (c *ReadCounter) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return f, nil
	}
	return &countedFile{File: f, name: name, c: c}, nil
}

type countedFile struct {
	fs.File
	name string
	c    *ReadCounter
}

func (f *countedFile) Read(b []byte) (int, error) {
	n, err := f.File.Read(b)
	f.c.mu.Lock()
	f.c.bytes[f.name] += int64(n)
	f.c.mu.Unlock()
	return n, err
}
