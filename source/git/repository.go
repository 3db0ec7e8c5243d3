package git

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/source"
)

// Repository is a Git [source.Source]: a remote repository, the reference to follow
// and a cache directory. It is safe for concurrent use, and Repositories in one or
// several processes may share a cache directory: work on one URL is serialized by a
// lock file, and an interrupted fetch leaves the cache usable. Overlapping Fetch
// calls on one Repository share fetches (see [Repository.Fetch]), so the users of
// one repository should share its Repository.
type Repository struct {
	opts   Options
	remote *remote
	dir    string // this URL's directory in the cache
	depth  int    // submodule nesting

	mu   sync.Mutex
	last *lazyCheckout // CheckoutLazy's most recent artifact

	flights flights // Fetch calls in progress
}

var _ source.Source = (*Repository)(nil)

// New validates opts (see [Options.Validate]) and returns a Repository with
// opts' defaults filled ([Options.WithDefaults]). It does not touch the network.
func New(opts Options) (*Repository, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	rem, err := newRemote(opts.URL, opts.Auth)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(rem.url))
	return &Repository{
		opts:   opts,
		remote: rem,
		dir:    filepath.Join(opts.CacheDir, hex.EncodeToString(sum[:12])),
	}, nil
}

// URL returns the repository URL without credentials.
func (r *Repository) URL() string { return r.remote.url }

// LatestRevision returns the revision the remote's reference points at, in Flux's
// format, with one ls-remote round trip and no object transfer. For a Ref with a
// Commit it is computed locally.
func (r *Repository) LatestRevision(ctx context.Context) (string, error) {
	if r.opts.Ref.Commit != "" {
		return revision(r.opts.Ref.Branch, plumbing.NewHash(r.opts.Ref.Commit)), nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	t, err := r.resolveRemote(ctx)
	if err != nil {
		return "", r.fail("ls-remote", err)
	}
	return revision(t.display, t.hash), nil
}

// Fetch brings the cache up to date with the reference (a shallow clone the first
// time, an incremental fetch after), verifies the commit's signature when asked,
// and presents the commit as an artifact. With [CheckoutDirectory] it is a
// directory under the cache, shared between Repositories with equal URL, commit and
// checkout options and deleted once Options.KeepArtifacts newer ones exist; with
// [CheckoutLazy] its FS reads the object cache and nothing is written or pruned.
//
// The remote is contacted once for the reference advertisement and, when the
// commit is not cached yet, once more for the pack (over smart HTTP: one GET and
// one POST).
//
// Concurrent calls share fetches: a call that begins while a fetch of this
// Repository waits for the cache lock joins it; one that begins after the fetch
// asked the remote waits for the next fetch, which every call queued meanwhile
// shares. Either way the artifact shows the reference as the remote had it at some
// moment after the call began (a pass triggered by a push sees that push), and a
// burst of calls costs at most two fetches. Each call gets its own Artifact value
// (the files, an FS safe for concurrent use, are shared). Options.Timeout bounds
// each fetch, not the wait for one; a call whose ctx ends returns ctx's error at
// once without failing the fetch for the other calls, and the fetch is cancelled
// when no call waits for it any more.
func (r *Repository) Fetch(ctx context.Context) (*source.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, r.fail("fetch", err)
	}
	f := r.join(ctx)
	select {
	case <-f.done:
		return f.result()
	case <-ctx.Done():
	}
	r.leave(f)
	return nil, r.fail("fetch", ctx.Err())
}

// fetch runs one fetch; asked is called once the cache lock is held, before the
// remote is asked for anything.
func (r *Repository) fetch(ctx context.Context, asked func()) (*source.Artifact, error) {
	unlock, err := lockDir(ctx, r.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	asked()
	st, err := r.openStorage()
	if err != nil {
		return nil, err
	}
	hash, display, err := r.update(ctx, st)
	if err != nil {
		return nil, err
	}
	commit, err := object.GetCommit(st, hash)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", hash, err)
	}
	if r.opts.Verify != nil {
		if err := r.opts.Verify.verify(commit); err != nil {
			return nil, err
		}
	}
	if r.opts.Checkout == CheckoutLazy {
		return r.lazyArtifact(ctx, st, commit, revision(display, hash))
	}
	return r.artifact(ctx, st, commit, revision(display, hash))
}

// fail wraps err with the operation and URL, redacting credentials.
func (r *Repository) fail(op string, err error) error {
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		err = fmt.Errorf("%w (%w)", ErrEmptyRepository, err)
	}
	return r.remote.secrets.Wrap(fmt.Errorf("git %s %s: %w", op, r.remote.url, err))
}

// largeObject is the size above which go-git streams an object's content from
// the cache when it is read, instead of decoding it into memory whole (and
// caching it): a checkout then writes a large file with a small buffer.
const largeObject = 1 << 20

// openStorage opens this URL's bare repository in the cache, creating it, or
// recreating it when it cannot be opened.
func (r *Repository) openStorage() (*filesystem.Storage, error) {
	return r.openStorageAt("repo")
}

// openStorageAt opens the bare repository name of this URL's cache directory,
// creating it, or recreating it when it cannot be opened.
func (r *Repository) openStorageAt(name string) (*filesystem.Storage, error) {
	path := filepath.Join(r.dir, name)
	open := func() (*filesystem.Storage, error) {
		st := filesystem.NewStorageWithOptions(osfs.New(path), cache.NewObjectLRUDefault(), filesystem.Options{ExclusiveAccess: true, LargeObjectThreshold: largeObject})
		_, err := gogit.Open(st, nil)
		if errors.Is(err, gogit.ErrRepositoryNotExists) {
			_, err = gogit.Init(st, nil)
		}
		return st, err
	}
	st, err := open()
	if err != nil {
		r.opts.Logger.V(1).Info("recreating unreadable cache", "dir", path, "error", err.Error())
		if err := os.RemoveAll(path); err != nil {
			return nil, err
		}
		st, err = open()
	}
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", path, err)
	}
	return st, nil
}

// listRefs runs one ls-remote.
func (r *Repository) listRefs(ctx context.Context) (remoteRefs, error) {
	s, err := r.openSession(ctx)
	if err != nil {
		return remoteRefs{}, err
	}
	defer s.Close()
	return s.refs()
}

func (r *Repository) resolveRemote(ctx context.Context) (target, error) {
	refs, err := r.listRefs(ctx)
	if err != nil {
		return target{}, err
	}
	return refs.resolve(r.opts.Ref)
}

// update makes the wanted commit present in st and returns it with the name its
// revision shows.
func (r *Repository) update(ctx context.Context, st *filesystem.Storage) (plumbing.Hash, string, error) {
	if c := r.opts.Ref.Commit; c != "" {
		h := plumbing.NewHash(c)
		if hasCommit(st, h) {
			return h, r.opts.Ref.Branch, nil
		}
		return h, r.opts.Ref.Branch, r.fetchCommit(ctx, st, h)
	}
	// One session: the advertisement resolves the Ref and, when the commit is
	// missing, the pack request follows on it (see session).
	s, err := r.openSession(ctx)
	if err != nil {
		return plumbing.ZeroHash, "", err
	}
	defer s.Close()
	refs, err := s.refs()
	if err != nil {
		return plumbing.ZeroHash, "", err
	}
	t, err := refs.resolve(r.opts.Ref)
	if err != nil {
		return plumbing.ZeroHash, "", err
	}
	if hasCommit(st, t.hash) {
		logging.From(ctx, r.opts.Logger).V(1).Info("commit already cached", "ref", t.refName.String(), "commit", t.hash.String())
		return t.hash, t.display, nil
	}
	logging.From(ctx, r.opts.Logger).V(1).Info("fetching", "url", r.remote.url, "ref", t.refName.String(), "object", t.object.String(), "depth", r.depth0())
	if err := s.fetch(ctx, st, t.object, r.depth0(), r.opts.MaxSize); err != nil {
		removeTempPacks(st)
		return plumbing.ZeroHash, "", err
	}
	h, err := peel(st, t.object)
	if err != nil {
		return plumbing.ZeroHash, "", err
	}
	if !hasCommit(st, h) {
		return plumbing.ZeroHash, "", fmt.Errorf("%s: commit %s missing after fetch", t.refName, h)
	}
	// The local reference is what the next fetch offers as a have.
	if err := st.SetReference(plumbing.NewHashReference(t.refName, t.object)); err != nil {
		return plumbing.ZeroHash, "", err
	}
	logging.From(ctx, r.opts.Logger).V(1).Info("fetched", "ref", t.refName.String(), "commit", h.String())
	return h, t.display, nil
}

func (r *Repository) depth0() int {
	if r.opts.FullHistory {
		return 0
	}
	return 1
}

// fetchCommit fetches one commit by hash; servers that refuse wants of unadvertised
// objects get a full fetch of the branch (or of every branch) instead.
func (r *Repository) fetchCommit(ctx context.Context, st *filesystem.Storage, h plumbing.Hash) error {
	var err error
	if r.opts.Ref.Branch == "" {
		err = r.fetchSpecs(ctx, st, r.depth0(), config.RefSpec(h.String()+":refs/gitopskit/commit"))
		if err == nil && hasCommit(st, h) {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
	}
	spec := config.RefSpec("+refs/heads/*:refs/heads/*")
	if b := r.opts.Ref.Branch; b != "" {
		spec = config.RefSpec("+refs/heads/" + b + ":refs/heads/" + b)
	}
	if err := r.fetchSpecs(ctx, st, 0, spec); err != nil {
		return err
	}
	if !hasCommit(st, h) {
		return fmt.Errorf("%w: commit %s not found in %s", ErrInvalidRef, h, spec.Src())
	}
	return nil
}

func (r *Repository) fetchSpecs(ctx context.Context, st *filesystem.Storage, depth int, specs ...config.RefSpec) error {
	var stored storage.Storer = st
	if r.opts.MaxSize >= 0 {
		stored = checkedStorage{Storage: st, limit: r.opts.MaxSize}
	}
	rem := gogit.NewRemote(stored, &config.RemoteConfig{Name: "origin", URLs: []string{r.remote.url}})
	logging.From(ctx, r.opts.Logger).V(1).Info("fetching", "url", r.remote.url, "refspecs", fmt.Sprint(specs), "depth", depth)
	err := rem.FetchContext(ctx, &gogit.FetchOptions{
		RefSpecs: specs,
		Depth:    depth,
		Auth:     r.remote.auth,
		CABundle: r.remote.caBundle,
		Tags:     gogit.NoTags,
		Force:    true,
	})
	if errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	if err != nil {
		removeTempPacks(st)
	}
	return err
}

func hasCommit(st *filesystem.Storage, h plumbing.Hash) bool {
	_, err := st.EncodedObject(plumbing.CommitObject, h)
	return err == nil
}

// peel follows annotated tags to the commit they name.
func peel(st *filesystem.Storage, h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 {
		tag, err := object.GetTag(st, h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		if tag.TargetType != plumbing.CommitObject && tag.TargetType != plumbing.TagObject {
			return h, fmt.Errorf("tag %s points to a %s, not a commit", tag.Name, tag.TargetType)
		}
		h = tag.Target
	}
	return h, fmt.Errorf("tag chain at %s too long", h)
}
