package git

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/gitopskit/gitopskit/source"
)

// Checkout says how [Repository.Fetch] presents a commit's files.
type Checkout int

const (
	// CheckoutDirectory, the default, writes the files into a directory under the
	// cache: Artifact.Path is set and Artifact.FS reads it, so programs that need a
	// path (a CLI, a container mount) can use it. Unchanged files are hard-linked
	// from the previous checkout, yet each revision costs one directory entry per
	// file to create, and once pruned ([Options.KeepArtifacts]) to delete: the
	// cost follows the size of the tree.
	CheckoutDirectory Checkout = iota
	// CheckoutLazy writes no files: Artifact.FS reads them from the cache's object
	// store when opened, and Artifact.Path is empty. Fetch reads the commit's
	// trees (to apply ignore rules, the size limit and the symlink check, and to
	// compute the digest, all as CheckoutDirectory does) and, for blobs that
	// changed since the previous Fetch of this Repository, their sizes, so its
	// cost follows what changed. Nothing is pruned: objects stay in the cache.
	// Reads through the FS fail (not change) if the cache directory is deleted.
	// Paths, symbolic links and the digest are those of the directory checkout.
	// It does not combine with [Options.Submodules].
	CheckoutLazy
)

// lazyCheckout is the last lazy artifact a Repository made.
type lazyCheckout struct {
	commit plumbing.Hash
	fs     *treeFS
	digest string
}

// lazyArtifact indexes commit's tree without writing files, reusing the previous
// index for unchanged blobs. The caller holds the cache lock.
func (r *Repository) lazyArtifact(ctx context.Context, st *filesystem.Storage, commit *object.Commit, rev string) (*source.Artifact, error) {
	r.mu.Lock()
	last := r.last
	r.mu.Unlock()
	if last == nil || last.commit != commit.Hash {
		var prevIdx *treeIndex
		var prevTree *object.Tree
		if last != nil {
			prevIdx = last.fs.idx
			if c, err := object.GetCommit(st, last.commit); err == nil {
				prevTree, _ = c.Tree()
			}
		}
		idx := newTreeIndex(prevIdx)
		budget := r.opts.MaxSize
		var digest source.Digester
		if err := r.materialize(ctx, st, commit, idx, &budget, &digest, "", prevTree); err != nil {
			return nil, err
		}
		if err := idx.finish(); err != nil {
			return nil, fmt.Errorf("commit %s: %w", commit.Hash, err)
		}
		idx.prev = nil // keep one index, not a chain of them
		// Its own storage: the fetch's one is used under the cache lock only.
		objects := filesystem.NewStorageWithOptions(osfs.New(filepath.Join(r.dir, "repo")), cache.NewObjectLRU(4*cache.MiByte), filesystem.Options{LargeObjectThreshold: largeObject})
		last = &lazyCheckout{commit: commit.Hash, fs: &treeFS{idx: idx, mtime: commit.Committer.When, st: objects}, digest: digest.Sum()}
		r.mu.Lock()
		r.last = last
		r.mu.Unlock()
	}
	return &source.Artifact{FS: last.fs, Revision: rev, Commit: commitMeta(commit), Digest: last.digest}, nil
}
