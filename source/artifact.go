package source

import (
	"context"
	"fmt"
	"path/filepath"
)

// NewArtifact describes the directory dir as an artifact with the given revision and
// commit (nil when there is none). It refuses a directory holding a symbolic link
// that resolves outside it ([*SymlinkError]) and computes the content [Digest].
func NewArtifact(ctx context.Context, dir, revision string, commit *Commit) (*Artifact, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", dir, err)
	}
	if err := CheckSymlinks(abs); err != nil {
		return nil, fmt.Errorf("artifact %s: %w", abs, err)
	}
	fsys := DirFS(abs)
	digest, err := Digest(ctx, fsys)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", abs, err)
	}
	return &Artifact{Path: abs, FS: fsys, Revision: revision, Commit: commit, Digest: digest}, nil
}
