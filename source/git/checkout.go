package git

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitopskit/gitopskit/source"
)

// artifact returns the checkout of commit, reusing one made earlier with the same
// options, and prunes old checkouts. The caller holds the cache lock.
func (r *Repository) artifact(ctx context.Context, st storer.EncodedObjectStorer, commit *object.Commit, rev string) (*source.Artifact, error) {
	meta := commitMeta(commit)
	root := filepath.Join(r.dir, "artifacts")
	key := r.checkoutKey()
	dir := filepath.Join(root, commit.Hash.String()+"-"+key)
	if digest, err := os.ReadFile(dir + digestSuffix); err == nil {
		now := time.Now()
		_ = os.Chtimes(dir, now, now) // most recently used: pruned last
		return &source.Artifact{Path: dir, FS: source.DirFS(dir), Revision: rev, Commit: meta, Digest: string(digest)}, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(root, ".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	budget := r.opts.MaxSize
	var digest source.Digester
	prevDir, prevTree := r.previousCheckout(st, root, key)
	if err := r.materialize(ctx, st, commit, &dirSink{dir: tmp, prevDir: prevDir}, &budget, &digest, "", prevTree); err != nil {
		return nil, err
	}
	if err := source.CheckSymlinks(tmp); err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit.Hash, err)
	}
	sum := digest.Sum()
	_ = os.RemoveAll(dir) // a checkout whose digest file was lost
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(dir+digestSuffix, []byte(sum), 0o644); err != nil {
		return nil, err
	}
	r.prune(root, dir)
	return &source.Artifact{Path: dir, FS: source.DirFS(dir), Revision: rev, Commit: meta, Digest: sum}, nil
}

// digestFormat changes with source.Digester's encoding, so that no checkout made
// before reports a digest in the old one (2: length-prefixed fields).
const digestFormat = 2

// digestSuffix names the file next to a checkout holding its digest; it is written
// last, so a checkout without one is incomplete.
const digestSuffix = ".digest"

// previousCheckout finds the most recent complete checkout with the same options
// and its tree, whose unchanged files the next checkout hard-links instead of
// writing: on many disks creating inodes costs far more than linking them.
func (r *Repository) previousCheckout(st storer.EncodedObjectStorer, root, key string) (string, *object.Tree) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", nil
	}
	var best string
	var bestMod time.Time
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), "-"+key+digestSuffix)
		if !ok {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().After(bestMod) {
			best, bestMod = name, info.ModTime()
		}
	}
	if !isHash(best) {
		return "", nil
	}
	c, err := object.GetCommit(st, plumbing.NewHash(best))
	if err != nil {
		return "", nil
	}
	t, err := c.Tree()
	if err != nil {
		return "", nil
	}
	return filepath.Join(root, best+"-"+key), t
}

// checkoutKey distinguishes checkouts of one commit made with different options,
// or whose recorded digest uses another encoding (digestFormat).
func (r *Repository) checkoutKey() string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%q %v %v %d", r.opts.Ignore, r.opts.Submodules, r.opts.RelativeSubmodules, digestFormat)))
	return hex.EncodeToString(sum[:4])
}

// prune deletes all but the KeepArtifacts most recently used checkouts, and
// leftovers of interrupted ones.
func (r *Repository) prune(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type dirTime struct {
		path string
		mod  int64
	}
	var dirs []dirTime
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if strings.HasPrefix(e.Name(), ".tmp-") {
			_ = os.RemoveAll(p) // we hold the lock: nobody is writing it
			continue
		}
		if strings.HasSuffix(e.Name(), digestSuffix) {
			continue
		}
		if info, err := e.Info(); err == nil && p != keep {
			dirs = append(dirs, dirTime{p, info.ModTime().UnixNano()})
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].mod > dirs[j].mod })
	for i, d := range dirs {
		if i >= r.opts.KeepArtifacts-1 {
			r.opts.Logger.V(1).Info("pruning old checkout", "dir", d.path)
			_ = os.Remove(d.path + digestSuffix) // first: the checkout is incomplete from here on
			_ = os.RemoveAll(d.path)
		}
	}
}

func commitMeta(c *object.Commit) *source.Commit {
	sig := func(s object.Signature) source.Signature {
		return source.Signature{Name: s.Name, Email: s.Email, When: s.When}
	}
	return &source.Commit{Hash: c.Hash.String(), Author: sig(c.Author), Committer: sig(c.Committer), Message: c.Message}
}

// checkout walks one tree, applying the ignore rules and the size limit, and hands
// what it keeps to a sink.
type checkout struct {
	st      storer.EncodedObjectStorer
	out     sink
	repoIgn source.Ignore // from .sourceignore files, grown during the walk
	optIgn  source.Ignore // Options.Ignore
	budget  *int64
	maxSize int64
	links   []gitlink
	digest  *source.Digester
	prefix  string // path of this tree in the artifact (submodules)
}

// sink stores the entries a checkout keeps: files in a directory ([dirSink]) or
// an index over the object store ([treeIndex]).
type sink interface {
	// mkdir records the directory p (also the place of a submodule).
	mkdir(p string) error
	// write records the regular file or symbolic link e at p, calling c.reserve
	// with its size first, and returns a link's target. unchanged says the
	// previous checkout holds the same entry at p.
	write(c *checkout, p string, e object.TreeEntry, unchanged bool) (target string, err error)
}

type gitlink struct {
	path string
	hash plumbing.Hash
}

// materialize walks commit's tree into out, recording files in digest under
// prefix. prevTree, when given, is the tree of the previous checkout out knows.
func (r *Repository) materialize(ctx context.Context, st storer.EncodedObjectStorer, commit *object.Commit, out sink, budget *int64, digest *source.Digester, prefix string, prevTree *object.Tree) error {
	tree, err := commit.Tree()
	if err != nil {
		return fmt.Errorf("commit %s: %w", commit.Hash, err)
	}
	c := &checkout{st: st, out: out, budget: budget, maxSize: r.opts.MaxSize, digest: digest, prefix: prefix}
	if err := c.optIgn.Add("", "Options.Ignore", r.opts.Ignore); err != nil {
		return err
	}
	if err := c.tree(ctx, tree, prevTree, ""); err != nil {
		return fmt.Errorf("checkout %s: %w", commit.Hash, err)
	}
	if r.opts.Submodules && len(c.links) > 0 {
		ds, ok := out.(*dirSink)
		if !ok {
			return errors.New("submodules need a directory checkout")
		}
		return r.submodules(ctx, tree, c.links, ds.dir, budget, digest, prefix)
	}
	return nil
}

func (c *checkout) ignored(p string, isDir bool) bool {
	return c.repoIgn.Match(p, isDir) || c.optIgn.Match(p, isDir)
}

// reserve takes n bytes of the size budget for the file p.
func (c *checkout) reserve(p string, n int64) error {
	if c.maxSize > 0 {
		if *c.budget -= n; *c.budget < 0 {
			return fmt.Errorf("%s: %w (%d bytes)", p, ErrSizeLimit, c.maxSize)
		}
	}
	return nil
}

func (c *checkout) tree(ctx context.Context, t, prev *object.Tree, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range t.Entries {
		if e.Name == source.IgnoreFile && e.Mode.IsFile() {
			text, err := c.blobText(e.Hash)
			if err != nil {
				return err
			}
			if err := c.repoIgn.Add(rel, path.Join(rel, e.Name), text); err != nil {
				return err
			}
		}
	}
	prevEntries := map[string]object.TreeEntry{}
	if prev != nil {
		for _, e := range prev.Entries {
			prevEntries[e.Name] = e
		}
	}
	for _, e := range t.Entries {
		p := path.Join(rel, e.Name)
		old, hasOld := prevEntries[e.Name]
		if !validName(e.Name) {
			return fmt.Errorf("%s: unsafe path in tree", p)
		}
		switch e.Mode {
		case filemode.Dir:
			if c.ignored(p, true) {
				continue
			}
			sub, err := object.GetTree(c.st, e.Hash)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if err := c.out.mkdir(p); err != nil {
				return err
			}
			var prevSub *object.Tree
			if hasOld && old.Mode == filemode.Dir {
				prevSub, _ = object.GetTree(c.st, old.Hash)
			}
			if err := c.tree(ctx, sub, prevSub, p); err != nil {
				return err
			}
		case filemode.Regular, filemode.Deprecated, filemode.Executable, filemode.Symlink:
			if c.ignored(p, false) {
				continue
			}
			target, err := c.out.write(c, p, e, hasOld && old.Mode == e.Mode && old.Hash == e.Hash)
			if err != nil {
				return err
			}
			if e.Mode == filemode.Symlink {
				c.digest.AddSymlink(path.Join(c.prefix, p), target)
			} else {
				c.digest.AddFile(path.Join(c.prefix, p), e.Mode == filemode.Executable, e.Hash.String())
			}
		case filemode.Submodule:
			if c.ignored(p, true) {
				continue
			}
			if err := c.out.mkdir(p); err != nil {
				return err
			}
			c.links = append(c.links, gitlink{path: p, hash: e.Hash})
		default:
			return fmt.Errorf("%s: unsupported file mode %s", p, e.Mode)
		}
	}
	return nil
}

func validName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00") && !strings.EqualFold(n, ".git")
}

// dirSink writes a checkout into a directory.
type dirSink struct {
	dir     string
	prevDir string // previous checkout to hard-link unchanged files from
}

func (d *dirSink) mkdir(p string) error {
	return os.Mkdir(filepath.Join(d.dir, filepath.FromSlash(p)), 0o755)
}

// write writes one blob, or hard-links the identical file of the previous
// checkout.
func (d *dirSink) write(c *checkout, p string, e object.TreeEntry, unchanged bool) (string, error) {
	dst := filepath.Join(d.dir, filepath.FromSlash(p))
	if unchanged && e.Mode != filemode.Symlink && d.prevDir != "" {
		linkFrom := filepath.Join(d.prevDir, filepath.FromSlash(p))
		if fi, err := os.Lstat(linkFrom); err == nil && fi.Mode().IsRegular() {
			if err := c.reserve(p, fi.Size()); err != nil {
				return "", err
			}
			if os.Link(linkFrom, dst) == nil {
				return "", nil
			}
			*c.budget += fi.Size()
		}
	}
	blob, err := object.GetBlob(c.st, e.Hash)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if err := c.reserve(p, blob.Size); err != nil {
		return "", err
	}
	rd, err := blob.Reader()
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	defer rd.Close()
	if e.Mode == filemode.Symlink {
		target, err := io.ReadAll(rd)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		return string(target), os.Symlink(string(target), dst)
	}
	perm := fs.FileMode(0o644)
	if e.Mode == filemode.Executable {
		perm = 0o755
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, rd)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return "", nil
}

func (c *checkout) blobText(h plumbing.Hash) (string, error) {
	b, err := readBlob(c.st, h, 1<<20, "ignore file")
	return string(b), err
}
