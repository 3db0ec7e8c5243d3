package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"sync"
	"testing/fstest"

	"github.com/gitopskit/gitopskit/source"
)

// Source serves files from memory as artifacts. Its zero value serves an empty
// directory; it is safe for concurrent use.
type Source struct {
	mu       sync.Mutex
	revision string
	files    map[string]string
	err      error
	fetches  int
}

// Commit replaces the files (slash-separated paths) and sets the revision.
func (s *Source) Commit(revision string, files map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revision, s.files, s.err = revision, maps.Clone(files), nil
}

// Fail makes the next fetches fail with err (nil to stop failing).
func (s *Source) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Fetches returns how many times Fetch was called.
func (s *Source) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Fetch returns the files as an artifact whose digest is a hash of their names and
// contents.
func (s *Source) Fetch(context.Context) (*source.Artifact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	if s.err != nil {
		return nil, s.err
	}
	fsys := fstest.MapFS{}
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(s.files)) {
		fsys[name] = &fstest.MapFile{Data: []byte(s.files[name]), Mode: 0o644}
		h.Write([]byte(name + "\x00" + s.files[name] + "\x00"))
	}
	return &source.Artifact{FS: fsys, Revision: s.revision, Digest: "sha256:" + hex.EncodeToString(h.Sum(nil))}, nil
}
