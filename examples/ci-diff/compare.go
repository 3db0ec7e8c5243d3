package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git"
)

// options are what one run compares and how.
type options struct {
	Repo, Base, Head, Path string
	Kubeconfig, Engine     string
	FieldManager           string
	Inventory, Namespace   string
	HelmRelease            string
	JSON, CacheDir         string
	Timeout                time.Duration
	Policy                 policy

	// restConfig, when set, is the cluster to diff against instead of Kubeconfig's.
	restConfig *rest.Config
	// maskKey makes Secret placeholders reproducible (tests only).
	maskKey []byte
}

// validate checks the combination of flags.
func (o *options) validate() error {
	switch {
	case o.Repo == "":
		return errors.New("--repo is required")
	case o.Head == "":
		return errors.New("--head is required")
	case o.Engine != "offline" && o.Engine != "server":
		return fmt.Errorf("--engine %q: want offline or server", o.Engine)
	case o.Timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	if o.cluster() {
		if o.Base != "" {
			return errors.New("give --base (diff two revisions) or --kubeconfig (diff against the cluster), not both")
		}
		if o.Inventory != "" {
			if ns, name, ok := strings.Cut(o.Inventory, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
				return fmt.Errorf("--inventory %q: want namespace/name", o.Inventory)
			}
		}
		return nil
	}
	if o.Base == "" {
		return errors.New("--base is required without --kubeconfig")
	}
	if o.Namespace != "" || o.Inventory != "" {
		return errors.New("--namespace and --inventory need --kubeconfig")
	}
	return nil
}

// cluster reports whether the run diffs against a cluster.
func (o *options) cluster() bool { return o.Kubeconfig != "" || o.restConfig != nil }

// compare renders the head and diffs it against the cluster or the base. It never
// fails: errors end up in the report, which says what went wrong.
func compare(ctx context.Context, o options) *report {
	rep := &report{Path: o.Path, Head: revision{Ref: o.Head}}
	headRef, baseRef, err := resolveRefs(ctx, o)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	head, err := fetchRender(ctx, o, headRef)
	if err != nil {
		rep.Error = fmt.Sprintf("head %s: %v", o.Head, err)
		return rep
	}
	rep.Head.Revision = head.revision
	rep.Warnings = append(rep.Warnings, head.result.Warnings...)

	var in diff.Input
	var engine diff.Engine
	if o.cluster() {
		rep.Against, rep.Engine = "cluster", o.Engine
		engine, in, err = clusterInput(ctx, o, head.result, rep)
	} else {
		rep.Against, rep.Engine = "base", "offline"
		rep.Base = &revision{Ref: o.Base}
		engine, in, err = baseInput(ctx, o, baseRef, head.result, rep)
	}
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	d, err := diff.New(engine, diff.Options{FieldManager: o.FieldManager, MaskKey: o.maskKey})
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	plan, err := d.Plan(ctx, in)
	if plan == nil {
		rep.Error = fmt.Sprintf("diff: %v", err)
		return rep
	}
	// A plan with failed objects comes with their joined errors, which the report
	// lists one by one.
	if err := rep.addPlan(plan); err != nil {
		rep.Error = err.Error()
		return rep
	}
	if rep.Base != nil {
		rep.relabel("base/", "head/")
	}
	rep.Violations = o.Policy.check(rep.Counts)
	return rep
}

// baseInput renders the base and presents it as the live state: every object as
// if our field manager had applied it, and all of them in the inventory, so that
// the diff shows what applying head over base would change, deletions included.
func baseInput(ctx context.Context, o options, baseRef string, head *render.Result, rep *report) (diff.Engine, diff.Input, error) {
	base, err := fetchRender(ctx, o, baseRef)
	if err != nil {
		return nil, diff.Input{}, fmt.Errorf("base %s: %w", o.Base, err)
	}
	rep.Base.Revision = base.revision
	in := diff.Input{Desired: object.Objects(head.Manifests)}
	for _, u := range object.Objects(base.result.Manifests) {
		live, err := asLive(u, o.FieldManager)
		if err != nil {
			return nil, diff.Input{}, err
		}
		in.Live = append(in.Live, live)
	}
	in.Inventory = rep.prunable(in.Live, in.Desired)
	return diff.NewOffline(deducedSchemas{}, diff.OfflineOptions{}), in, nil
}

// rendered is a revision's render.
type rendered struct {
	revision string
	result   *render.Result
}

// fetchRender fetches ref of the repository and renders the path.
func fetchRender(ctx context.Context, o options, ref string) (*rendered, error) {
	r, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	url, err := o.repoURL()
	if err != nil {
		return nil, err
	}
	repo, err := git.New(git.Options{URL: url, Ref: r, CacheDir: o.CacheDir})
	if err != nil {
		return nil, err
	}
	art, err := repo.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	renderer := isolate.New(isolate.Options{Spec: isolate.DefaultSpec()}) // a child process: a hostile commit cannot end this one
	res, err := renderer.Render(ctx, render.Input{FS: art.FS, Dir: o.Path, Digest: art.Digest},
		render.Options{Helm: render.HelmOptions{ReleaseName: o.HelmRelease}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", art.Revision, err)
	}
	return &rendered{revision: art.Revision, result: res}, nil
}

// repoURL returns --repo, made absolute when it is a local directory.
func (o *options) repoURL() (string, error) {
	if fi, err := os.Stat(o.Repo); err == nil && fi.IsDir() {
		return filepath.Abs(o.Repo)
	}
	return o.Repo, nil
}

// resolveRefs returns --head and --base as "commit:<hash>" when either is a
// revision expression (see revspec), resolved as git rev-parse resolves them,
// and as they are otherwise. Both are resolved so that both are then fetched by
// commit: the first fetch into the cache is then a full one, and the second
// finds its commit there.
func resolveRefs(ctx context.Context, o options) (head, base string, err error) {
	head, base = o.Head, o.Base
	if !revspec(head) && !revspec(base) {
		return head, base, nil
	}
	url, err := o.repoURL()
	if err != nil {
		return "", "", err
	}
	repo, err := git.New(git.Options{URL: url, CacheDir: o.CacheDir})
	if err != nil {
		return "", "", err
	}
	resolve := func(ref string) (string, error) {
		if ref == "" {
			return "", nil
		}
		rev := ref
		if kind, value, ok := strings.Cut(ref, ":"); ok {
			rev = map[string]string{"branch": "refs/heads/", "tag": "refs/tags/", "commit": ""}[kind] + value
		}
		h, err := repo.ResolveCommit(ctx, rev)
		if err != nil {
			return "", err
		}
		return "commit:" + h, nil
	}
	if head, err = resolve(head); err != nil {
		return "", "", fmt.Errorf("head %s: %w", o.Head, err)
	}
	if base, err = resolve(base); err != nil {
		return "", "", fmt.Errorf("base %s: %w", o.Base, err)
	}
	return head, base, nil
}

// parseRef reads --base and --head: "tag:<name>", "branch:<name>", "commit:<sha>",
// or a bare value: a 40-digit hash is a commit, "refs/…" a full reference name,
// anything else a branch (a revision expression is resolved before, by
// resolveRefs).
func parseRef(s string) (git.Ref, error) {
	if kind, value, ok := strings.Cut(s, ":"); ok {
		switch kind {
		case "branch":
			return git.Ref{Branch: value}, nil
		case "tag":
			return git.Ref{Tag: value}, nil
		case "commit":
			return git.Ref{Commit: value}, nil
		}
		return git.Ref{}, fmt.Errorf("revision %q: unknown kind %q (want branch, tag or commit)", s, kind)
	}
	switch {
	case len(s) == 40 && isHex(s):
		return git.Ref{Commit: s}, nil
	case strings.HasPrefix(s, "refs/"):
		return git.Ref{Name: s}, nil
	}
	return git.Ref{Branch: s}, nil
}

// revspec reports whether a bare --base or --head is a revision expression
// rather than a branch name: HEAD, an ancestry or reflog suffix ("main~3",
// "HEAD^"), or an abbreviated hash (which git rev-parse still takes for a
// branch of that name when no commit matches).
func revspec(s string) bool {
	if strings.Contains(s, ":") || strings.HasPrefix(s, "refs/") {
		return false
	}
	return s == "HEAD" || strings.ContainsAny(s, "~^@") || (len(s) >= 4 && len(s) < 40 && isHex(s))
}

func isHex(s string) bool { return strings.Trim(s, "0123456789abcdef") == "" }

// clusterConfig returns the cluster's client configuration.
func (o *options) clusterConfig() (*rest.Config, error) {
	if o.restConfig != nil {
		return rest.CopyConfig(o.restConfig), nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", o.Kubeconfig, err)
	}
	return cfg, nil
}
