package git

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/gitopskit/gitopskit/source"
)

// maxSubmoduleDepth bounds nesting, which also stops a submodule naming its parent.
const maxSubmoduleDepth = 5

// submodules fetches each gitlink's commit from the URL .gitmodules gives it and
// checks it out in place. Credentials go only to submodules on the parent's host.
func (r *Repository) submodules(ctx context.Context, tree *object.Tree, links []gitlink, dir string, budget *int64, digest *source.Digester, prefix string) error {
	if r.depth >= maxSubmoduleDepth {
		return fmt.Errorf("submodules nested deeper than %d", maxSubmoduleDepth)
	}
	f, err := tree.File(".gitmodules")
	if err != nil {
		return fmt.Errorf(".gitmodules: %w", err)
	}
	text, err := f.Contents()
	if err != nil {
		return fmt.Errorf(".gitmodules: %w", err)
	}
	mods := config.NewModules()
	if err := mods.Unmarshal([]byte(text)); err != nil {
		return fmt.Errorf(".gitmodules: %w", err)
	}
	byPath := map[string]*config.Submodule{}
	for _, m := range mods.Submodules {
		byPath[m.Path] = m
	}
	for _, l := range links {
		m, ok := byPath[l.path]
		if !ok {
			return fmt.Errorf("submodule %s: not in .gitmodules", l.path)
		}
		subURL, err := resolveSubmoduleURL(r.remote.url, m.URL)
		if err != nil {
			return fmt.Errorf("submodule %s: %w", l.path, err)
		}
		opts := r.opts
		opts.URL = subURL
		opts.Ref = Ref{Commit: l.hash.String()}
		opts.Verify = nil
		if !sameHost(r.remote.endpoint, subURL) {
			opts.Auth = Auth{CABundle: r.opts.Auth.CABundle, KnownHosts: r.opts.Auth.KnownHosts, InsecureIgnoreHostKey: r.opts.Auth.InsecureIgnoreHostKey}
		}
		sub, err := New(opts)
		if err != nil {
			return fmt.Errorf("submodule %s: %w", l.path, err)
		}
		sub.depth = r.depth + 1
		if sub.dir == r.dir {
			return fmt.Errorf("submodule %s: refers to its own repository", l.path)
		}
		if err := sub.checkoutInto(ctx, filepath.Join(dir, filepath.FromSlash(l.path)), budget, digest, path.Join(prefix, l.path)); err != nil {
			return fmt.Errorf("submodule %s: %w", l.path, err)
		}
	}
	return nil
}

// checkoutInto fetches the submodule's commit under its own cache lock and writes
// its tree into dir.
func (r *Repository) checkoutInto(ctx context.Context, dir string, budget *int64, digest *source.Digester, prefix string) error {
	unlock, err := lockDir(ctx, r.dir)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := r.openStorage()
	if err != nil {
		return err
	}
	h, _, err := r.update(ctx, st)
	if err != nil {
		return r.fail("fetch", err)
	}
	commit, err := object.GetCommit(st, h)
	if err != nil {
		return err
	}
	return r.materialize(ctx, st, commit, &dirSink{dir: dir}, budget, digest, prefix, nil)
}

// resolveSubmoduleURL resolves a relative submodule URL ("../lib.git") against the
// parent repository's URL, as git does.
func resolveSubmoduleURL(parent, sub string) (string, error) {
	if !strings.HasPrefix(sub, "./") && !strings.HasPrefix(sub, "../") {
		return sub, nil
	}
	base, err := url.Parse(strings.TrimSuffix(parent, "/") + "/")
	if err != nil || base.Scheme == "" {
		return "", errors.New("relative submodule URL needs a URL-form parent")
	}
	ref, err := url.Parse(sub)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(ref).String(), nil
}

func sameHost(parent *transport.Endpoint, sub string) bool {
	ep, err := transport.NewEndpoint(sub)
	return err == nil && ep.Protocol == parent.Protocol && ep.Host == parent.Host && ep.Port == parent.Port
}
