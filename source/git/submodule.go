package git

import (
	"context"
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
		subURL, err := r.submoduleURL(m.URL)
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

// submoduleURL checks a URL from .gitmodules, resolving a relative one against
// the repository's own URL: submodules come from remote repositories only. A
// file:// URL or a local path would read a repository on this machine, such as
// another Repository's in a shared cache, whatever the parent's credentials
// allow.
func (r *Repository) submoduleURL(raw string) (string, error) {
	if strings.HasPrefix(raw, "./") || strings.HasPrefix(raw, "../") {
		if !r.opts.RelativeSubmodules {
			return "", fmt.Errorf("URL %q: %w: relative to %s; set Options.RelativeSubmodules to follow it", raw, ErrSubmoduleURL, r.remote.url)
		}
		resolved, err := resolveRelative(r.remote.url, raw)
		if err != nil {
			return "", fmt.Errorf("URL %q: %w", raw, err)
		}
		raw = resolved
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return "", fmt.Errorf("URL %s: %w", RedactURL(raw), err)
	}
	switch ep.Protocol {
	case "https", "ssh", "git":
		return raw, nil
	case "http":
		if r.remote.endpoint.Protocol == "http" {
			return raw, nil
		}
		return "", fmt.Errorf("URL %s: %w: plain HTTP under a %s repository", RedactURL(raw), ErrSubmoduleURL, r.remote.endpoint.Protocol)
	}
	return "", fmt.Errorf("URL %s: %w: %s is not a remote transport (https, ssh, git, or http under an http repository)", RedactURL(raw), ErrSubmoduleURL, ep.Protocol)
}

// resolveRelative resolves a relative submodule URL ("../lib.git") against the
// parent's URL taken as a directory, as git does: a URL ("https://host/org/app.git"
// gives "https://host/org/lib.git") or an scp-like address ("git@host:org/app.git"
// gives "git@host:org/lib.git"). A parent on the local disk has no remote to
// resolve against.
func resolveRelative(parent, sub string) (string, error) {
	ep, err := transport.NewEndpoint(parent)
	if err != nil || ep.Protocol == "file" {
		return "", fmt.Errorf("%w: a relative URL needs a remote parent", ErrSubmoduleURL)
	}
	if !strings.Contains(parent, "://") { // scp-like: the path is the address's tail
		joined := path.Join(ep.Path, sub)
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return "", fmt.Errorf("%w: leaves the parent's host", ErrSubmoduleURL)
		}
		return strings.TrimSuffix(parent, ep.Path) + joined, nil
	}
	base, err := url.Parse(strings.TrimSuffix(parent, "/") + "/")
	if err != nil {
		return "", err
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
