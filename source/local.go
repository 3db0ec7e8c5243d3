package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Local is a [Source] serving a directory on disk as it is, for development loops
// and tests. Its revision is the content digest ("sha256:<hex>"), so it changes
// exactly when the files do. The artifact is the directory itself, not a copy:
// later edits show through it.
type Local struct {
	// Dir is the directory to serve.
	Dir string
}

// Fetch checks the directory (see [NewArtifact]) and returns it as an artifact whose
// Revision equals its Digest.
func (l Local) Fetch(ctx context.Context) (*Artifact, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	a, err := NewArtifact(ctx, l.Dir, "", nil)
	if err != nil {
		return nil, err
	}
	a.Revision = a.Digest
	return a, nil
}

// LatestRevision returns the directory's content digest. It reads every file, so
// it costs as much as Fetch.
func (l Local) LatestRevision(ctx context.Context) (string, error) {
	a, err := l.Fetch(ctx)
	if err != nil {
		return "", err
	}
	return a.Revision, nil
}

func (l Local) check() error {
	if l.Dir == "" {
		return fmt.Errorf("local source: no directory given")
	}
	fi, err := os.Stat(l.Dir)
	if err != nil {
		return fmt.Errorf("local source: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("local source %s: not a directory", filepath.Clean(l.Dir))
	}
	return nil
}
