package git

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/gitopskit/gitopskit/source"
)

// Change is a commit to make on top of a branch: files to write or delete.
type Change struct {
	// Branch to commit on; empty means Options.Ref.Branch, else the default branch.
	// A branch the remote does not have is created from the default branch.
	Branch string
	// Files maps slash-separated paths to their new content; a nil value deletes
	// the path (a file or a whole directory).
	Files map[string][]byte
	// Author signs the commit; a zero When means now.
	Author source.Signature
	// Message is the commit message.
	Message string
	// Parent, when set, is the full hash of the commit the change was computed
	// from. If the branch points elsewhere, Push fails with [ErrNonFastForward]
	// instead of committing on top of a head the change never saw.
	Parent string
}

// Push commits c on top of the remote branch's current commit and pushes it,
// returning the new revision. It never force-pushes: when the branch moved since it
// was read, the push fails with an error matching [ErrNonFastForward]; fetch state is
// refreshed by the next call, so callers retry by calling Push again. A change that
// leaves the tree as it is pushes nothing and returns the current revision.
func (r *Repository) Push(ctx context.Context, c Change) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	rev, err := r.push(ctx, c)
	if err != nil {
		return "", r.fail("push", err)
	}
	return rev, nil
}

func (r *Repository) push(ctx context.Context, c Change) (string, error) {
	if c.Message == "" || c.Author.Name == "" || c.Author.Email == "" {
		return "", errors.New("a change needs a message and an author name and email")
	}
	unlock, err := lockDir(ctx, r.dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	st, err := r.openStorage()
	if err != nil {
		return "", err
	}
	refs, err := r.listRefs(ctx)
	if err != nil {
		return "", err
	}
	branch := c.Branch
	if branch == "" {
		branch = r.opts.Ref.Branch
	}
	if branch == "" {
		if refs.head == "" {
			return "", fmt.Errorf("%w: no branch given and the remote has no default branch", ErrInvalidRef)
		}
		branch = refs.head.Short()
	}
	name := plumbing.NewBranchReferenceName(branch)
	base, exists := refs.hashes[name]
	if !exists {
		t, err := refs.resolve(Ref{})
		if err != nil {
			return "", fmt.Errorf("branch %s does not exist and no default branch to start it from: %w", branch, err)
		}
		base = t.hash
	}
	if c.Parent != "" && exists && base.String() != c.Parent {
		return "", fmt.Errorf("%w: %s is at %s, the change was made on %s", ErrNonFastForward, branch, base, c.Parent)
	}
	if !hasCommit(st, base) {
		src := name
		if !exists {
			src = refs.head
		}
		if err := r.fetchSpecs(ctx, st, 1, config.RefSpec("+"+src+":"+src)); err != nil {
			return "", err
		}
		if !hasCommit(st, base) {
			return "", fmt.Errorf("%w: %s moved while reading it", ErrNonFastForward, branch)
		}
	}
	parent, err := getCommit(st, base)
	if err != nil {
		return "", err
	}
	next, err := r.commitChange(st, parent, c)
	if err != nil {
		return "", err
	}
	if next == parent.Hash && exists {
		return revision(branch, parent.Hash), nil
	}
	if err := r.pushCommit(ctx, st, branch, base, next, exists); err != nil {
		return "", err
	}
	return revision(branch, next), nil
}

// pushCommit pushes next to branch. When the branch exists it must still point at
// base on the remote, like --force-with-lease; otherwise the error matches
// ErrNonFastForward.
func (r *Repository) pushCommit(ctx context.Context, st *filesystem.Storage, branch string, base, next plumbing.Hash, exists bool) error {
	name := plumbing.NewBranchReferenceName(branch)
	opts := &gogit.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec(next.String() + ":" + name.String())},
		Auth:       r.remote.auth,
		CABundle:   r.remote.caBundle,
	}
	if exists {
		opts.RequireRemoteRefs = []config.RefSpec{config.RefSpec(base.String() + ":" + name.String())}
	}
	rem := gogit.NewRemote(st, &config.RemoteConfig{Name: "origin", URLs: []string{r.remote.url}})
	if err := rem.PushContext(ctx, opts); err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		if isNonFastForward(err) {
			return fmt.Errorf("%w: %s: %w", ErrNonFastForward, branch, err)
		}
		return err
	}
	return st.SetReference(plumbing.NewHashReference(name, next))
}

func isNonFastForward(err error) bool {
	if errors.Is(err, gogit.ErrForceNeeded) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "required to be", "stale info", "failed to update ref"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// commitChange stores the tree and commit for c on top of parent; it returns the
// parent's hash when the tree does not change.
func (r *Repository) commitChange(st *filesystem.Storage, parent *object.Commit, c Change) (plumbing.Hash, error) {
	tree, err := parent.Tree()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	edits := make(map[string][]byte, len(c.Files))
	for p, content := range c.Files {
		clean, err := cleanEditPath(p)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		edits[clean] = content
	}
	newTree, err := editTree(st, tree, edits)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if newTree == tree.Hash {
		return parent.Hash, nil
	}
	author := object.Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When}
	if author.When.IsZero() {
		author.When = time.Now()
	}
	commit := &object.Commit{
		Author:       author,
		Committer:    author,
		Message:      c.Message,
		TreeHash:     newTree,
		ParentHashes: []plumbing.Hash{parent.Hash},
	}
	o := st.NewEncodedObject()
	if err := commit.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(o)
}

func getCommit(st *filesystem.Storage, h plumbing.Hash) (*object.Commit, error) {
	c, err := object.GetCommit(st, h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	return c, nil
}
