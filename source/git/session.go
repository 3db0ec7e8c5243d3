package git

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// session is one upload-pack conversation with the remote: the reference
// advertisement (the round trip an ls-remote costs) and, when a commit is missing,
// one pack request that wants exactly the advertised object. go-git's Remote.Fetch
// would list the references again (a second advertisement: over smart HTTP one more
// request, and one more upload-pack process on the server), so a changed fetch costs
// two round trips here instead of three.
type session struct {
	s  transport.UploadPackSession
	ar *packp.AdvRefs
}

// openSession connects and reads the advertisement. The caller closes it.
func (r *Repository) openSession(ctx context.Context) (*session, error) {
	ep := *r.remote.endpoint
	ep.CaBundle = r.remote.caBundle
	c, err := client.NewClient(&ep)
	if err != nil {
		return nil, err
	}
	s, err := c.NewUploadPackSession(&ep, r.remote.auth)
	if err != nil {
		return nil, err
	}
	ar, err := s.AdvertisedReferencesContext(ctx)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return &session{s: s, ar: ar}, nil
}

func (s *session) Close() error { return s.s.Close() }

// refs indexes the advertisement like an ls-remote with peeled tags.
func (s *session) refs() (remoteRefs, error) {
	all, err := s.ar.AllReferences()
	if err != nil {
		return remoteRefs{}, err
	}
	refs := make([]*plumbing.Reference, 0, len(all)+len(s.ar.Peeled))
	for _, ref := range all {
		refs = append(refs, ref)
	}
	for name, h := range s.ar.Peeled {
		refs = append(refs, plumbing.NewHashReference(plumbing.ReferenceName(name+"^{}"), h))
	}
	return indexRefs(refs), nil
}

// fetch asks for the object want (as advertised: a commit or an annotated tag),
// cut to depth commits when depth > 0, stores the pack in st and records the
// remote's shallow boundary. The local references' commits are sent as haves, so
// only what is new travels. With limit >= 0 the pack is checked against it as it
// arrives (see packCheck).
func (s *session) fetch(ctx context.Context, st *filesystem.Storage, want plumbing.Hash, depth int, limit int64) (err error) {
	req := packp.NewUploadPackRequestFromCapabilities(s.ar.Capabilities)
	req.Wants = []plumbing.Hash{want}
	if depth > 0 {
		req.Depth = packp.DepthCommits(depth)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return err
		}
		if req.Shallows, err = st.Shallow(); err != nil {
			return err
		}
	}
	if s.ar.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return err
		}
	}
	if req.Haves, err = haves(st); err != nil {
		return err
	}
	// Against a shallow history, a pack that is not thin holds every tree of the
	// new commit: the server can leave out what the client has only by sending
	// deltas against it (git fetch asks for thin packs too). go-git drops
	// thin-pack from the advertisement because its pack writer cannot store such
	// a pack; its parser can (see stagedObjects).
	thin := len(req.Haves) > 0
	if thin {
		if err := req.Capabilities.Set(capability.ThinPack); err != nil {
			return err
		}
	}
	resp, err := s.s.UploadPack(ctx, req)
	if errors.Is(err, transport.ErrEmptyUploadPackRequest) {
		return nil
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := resp.Close(); err == nil {
			err = cerr
		}
	}()
	if depth > 0 && len(resp.Shallows) > 0 {
		if err := addShallows(st, resp.Shallows); err != nil {
			return err
		}
	}
	var body io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		body = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		body = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	if limit >= 0 {
		check := newPackCheck(limit)
		defer check.Close()
		body = checkedReader{r: body, c: check}
	}
	if !thin {
		// The pack is written aside and renamed into place once complete.
		if err := packfile.UpdateObjectStorage(st, body); err != nil {
			return fmt.Errorf("receiving pack: %w", err)
		}
		return nil
	}
	staged := &stagedObjects{Storer: st, objects: map[plumbing.Hash]plumbing.EncodedObject{}}
	if err := packfile.UpdateObjectStorage(staged, body); err != nil {
		return fmt.Errorf("receiving pack: %w", err)
	}
	return staged.commit(st)
}

// stagedObjects receives a thin pack: the parser resolves deltas against objects
// in the pack and in the cache. Blobs and trees are stored (as loose objects) as
// they come; commits and tags stay in memory until the pack is complete and are
// stored last, so that a fetch that dies midway never leaves a commit whose trees
// are missing (the next fetch would take it as cached). The first, full fetch goes
// through go-git's pack writer instead.
type stagedObjects struct {
	storer.Storer // the cache; hides its pack writer from UpdateObjectStorage
	objects       map[plumbing.Hash]plumbing.EncodedObject
	order         []plumbing.Hash
}

func (s *stagedObjects) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	if t := o.Type(); t != plumbing.CommitObject && t != plumbing.TagObject {
		return s.Storer.SetEncodedObject(o)
	}
	h := o.Hash()
	if _, ok := s.objects[h]; !ok {
		s.objects[h] = o
		s.order = append(s.order, h)
	}
	return h, nil
}

func (s *stagedObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := s.objects[h]; ok && (t == plumbing.AnyObject || t == o.Type()) {
		return o, nil
	}
	return s.Storer.EncodedObject(t, h)
}

func (s *stagedObjects) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := s.objects[h]; ok {
		return nil
	}
	return s.Storer.HasEncodedObject(h)
}

func (s *stagedObjects) commit(st storer.EncodedObjectStorer) error {
	for _, h := range s.order {
		if _, err := st.SetEncodedObject(s.objects[h]); err != nil {
			return fmt.Errorf("storing %s: %w", h, err)
		}
	}
	return nil
}

// haves lists the commits the local references point at: with shallow histories
// their parents are usually missing, and the tips are what the server needs to
// leave out everything unchanged.
func haves(st *filesystem.Storage) ([]plumbing.Hash, error) {
	iter, err := st.IterReferences()
	if err != nil {
		return nil, err
	}
	seen := map[plumbing.Hash]bool{}
	var hs []plumbing.Hash
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		h := ref.Hash()
		if ref.Type() != plumbing.HashReference || seen[h] || !hasCommit(st, h) {
			return nil
		}
		seen[h] = true
		hs = append(hs, h)
		return nil
	})
	return hs, err
}

func addShallows(st *filesystem.Storage, add []plumbing.Hash) error {
	old, err := st.Shallow()
	if err != nil {
		return err
	}
	seen := map[plumbing.Hash]bool{}
	for _, h := range old {
		seen[h] = true
	}
	for _, h := range add {
		if !seen[h] {
			seen[h] = true
			old = append(old, h)
		}
	}
	return st.SetShallow(old)
}
