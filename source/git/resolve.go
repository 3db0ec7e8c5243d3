package git

import (
	"context"
	"errors"
	"fmt"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// ResolveCommit returns the full hash of the commit that rev names as git
// rev-parse reads it: a branch or tag name, HEAD (the remote's default branch),
// an abbreviated hash, and ancestry suffixes ("main~3", "HEAD^", "v1.2.0^2"),
// resolved by go-git's ResolveRevision. A caller gives the hash to Ref.Commit to
// fetch that commit.
//
// A revision expression needs history, which the shallow fetches of
// [Repository.Fetch] do not have: ResolveCommit fetches every branch and tag
// with full history into a repository of its own in the cache directory (the
// next call fetches only what is new). A rev that names nothing is an error
// wrapping [ErrInvalidRef].
func (r *Repository) ResolveCommit(ctx context.Context, rev string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	h, err := r.resolveCommit(ctx, rev)
	if err != nil {
		return "", r.fail("resolve "+rev, err)
	}
	return h, nil
}

func (r *Repository) resolveCommit(ctx context.Context, rev string) (string, error) {
	unlock, err := lockDir(ctx, r.dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	st, err := r.openStorageAt("history")
	if err != nil {
		return "", err
	}
	refs, err := r.listRefs(ctx)
	if err != nil {
		return "", err
	}
	if len(refs.hashes) == 0 {
		return "", ErrEmptyRepository
	}
	if err := r.fetchSpecs(ctx, st, 0, config.RefSpec("+refs/heads/*:refs/heads/*"), config.RefSpec("+refs/tags/*:refs/tags/*")); err != nil {
		return "", err
	}
	if refs.head != "" {
		if err := st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, refs.head)); err != nil {
			return "", err
		}
	}
	repo, err := gogit.Open(st, nil)
	if err != nil {
		return "", err
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, plumbing.ErrObjectNotFound) {
			return "", fmt.Errorf("%w: %q names no commit of the remote's branches and tags", ErrInvalidRef, rev)
		}
		return "", fmt.Errorf("%w: %q: %w", ErrInvalidRef, rev, err)
	}
	return h.String(), nil
}
