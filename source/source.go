package source

import (
	"context"
	"io/fs"
	"time"
)

// Source fetches artifacts. Implementations are safe for concurrent use unless they
// say otherwise.
type Source interface {
	// Fetch makes the latest content available as an artifact. The artifact stays
	// readable until the source documents otherwise (a cache may prune old ones).
	Fetch(ctx context.Context) (*Artifact, error)
	// LatestRevision returns the revision Fetch would produce now, as cheaply as the
	// source allows (one ls-remote for Git), so that a poller can skip a fetch when
	// nothing changed.
	LatestRevision(ctx context.Context) (string, error)
}

// Artifact is a fetched, read-only tree of files and what is known about where it
// came from. Callers must not write into Path.
type Artifact struct {
	// Path is the absolute path of the artifact's root directory, or empty when
	// the artifact exists only as FS (a source that serves files from elsewhere,
	// such as source/git's lazy checkout).
	Path string
	// FS reads files under Path; opening a path that leaves the root (through ".."
	// or a symbolic link) fails.
	FS fs.FS
	// Revision identifies the content's origin: "main@sha1:<hash>" for Git,
	// "sha256:<hex>" for content-addressed sources.
	Revision string
	// Commit describes the Git commit the artifact was checked out from; nil for
	// sources without commits.
	Commit *Commit
	// Digest is "sha256:<hex>" over the artifact's files (see [Digest]); two
	// artifacts with equal digests hold the same files.
	Digest string
}

// Commit is the metadata of a Git commit.
type Commit struct {
	// Hash is the full hexadecimal object name.
	Hash string
	// Author wrote the change; Committer recorded it.
	Author, Committer Signature
	// Message is the full commit message.
	Message string
}

// Signature is a person and a time, as recorded in a commit.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}
