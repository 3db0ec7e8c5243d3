package update

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
)

// Scanner reads a registry: the tags of a repository and the digest of a tag.
// [*Registry] implements it.
type Scanner interface {
	Tags(ctx context.Context, repository string) ([]string, error)
	Digest(ctx context.Context, repository, tag string) (string, error)
}

// GitRepository is the Git side of a run: fetch the branch, push a change.
// [*git.Repository] implements it.
type GitRepository interface {
	Fetch(ctx context.Context) (*source.Artifact, error)
	Push(ctx context.Context, c git.Change) (string, error)
}

// Options configures [Run].
type Options struct {
	// Policies choose the images; each is validated.
	Policies []Policy
	// Registry scans the policies' images; nil means an anonymous [Registry].
	Registry Scanner
	// Repository is the checkout to edit and push to. Required.
	Repository GitRepository
	// Branch is pushed to; empty means the branch the repository fetches.
	Branch string
	// Path is the slash-separated directory of the repository whose YAML files
	// (*.yaml, *.yml) are edited; empty means the whole repository.
	Path string
	// Fields and MarkerKey configure the [Setter].
	Fields    Fields
	MarkerKey string
	// Author signs the commits. Name and Email are required.
	Author source.Signature
	// Subject is the commit message's first line; empty means "Update images".
	Subject string
	// MaxAttempts bounds the pushes when the branch keeps moving; 0 means 3.
	MaxAttempts int
	// MaxFileSize skips larger files; 0 means 4 MiB.
	MaxFileSize int64
	// Logger receives progress at V(1); unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Validate reports what makes o unusable; it changes nothing ([Options.WithDefaults]
// fills the defaults).
func (o Options) Validate() error {
	if o.Repository == nil {
		return errors.New("update: no repository")
	}
	if o.Author.Name == "" || o.Author.Email == "" {
		return errors.New("update: the commit author needs a name and an email")
	}
	names := map[string]bool{}
	for _, p := range o.Policies {
		if err := p.Validate(); err != nil {
			return err
		}
		if names[p.Name] {
			return fmt.Errorf("%w %q: declared twice", ErrInvalidPolicy, p.Name)
		}
		names[p.Name] = true
	}
	if o.Path != "" && !fs.ValidPath(strings.Trim(o.Path, "/")) {
		return fmt.Errorf("update: path %q is not a relative slash-separated path", o.Path)
	}
	return nil
}

// WithDefaults returns o with its zero fields set to their defaults: a [Registry]
// with o's Logger, the subject "Update images", 3 attempts, files up to 4 MiB.
func (o Options) WithDefaults() Options {
	if o.Registry == nil {
		o.Registry = &Registry{Logger: o.Logger}
	}
	if o.Subject == "" {
		o.Subject = "Update images"
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = 4 << 20
	}
	return o
}

// Result is what a run chose and committed.
type Result struct {
	// Images are the policies' choices, in policy order.
	Images []Image
	// Edits are the fields changed, by file and line; empty when the repository
	// already held the images.
	Edits []Edit
	// Files are the changed files' paths and new contents.
	Files map[string][]byte
	// Revision is the pushed commit's revision ("main@sha1:…"), or the fetched
	// one when nothing was pushed.
	Revision string
	// Pushed reports whether a commit was pushed.
	Pushed bool
	// Attempts is the number of fetch-edit-push rounds (more than 1 after a race).
	Attempts int
}

// Run is one pass of the updater: it scans each policy's image, chooses a tag (and
// digest), writes the images into the repository's YAML files and pushes one commit
// listing the edits. When nothing changes it pushes nothing. When the branch moved
// between the fetch and the push (another writer, [git.ErrNonFastForward]) it
// fetches the new head and edits it again, up to Options.MaxAttempts times. Any
// policy that cannot be scanned or satisfied fails the run before Git is touched.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts.Logger = logging.From(ctx, opts.Logger)
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	images, err := Choose(ctx, opts.Registry, opts.Policies)
	if err != nil {
		return nil, err
	}
	setter := &Setter{Images: images, Fields: opts.Fields, MarkerKey: opts.MarkerKey}
	res := &Result{Images: images}
	for {
		res.Attempts++
		art, err := opts.Repository.Fetch(ctx)
		if err != nil {
			return res, fmt.Errorf("update: %w", err)
		}
		res.Revision = art.Revision
		files, edits, err := editTree(art.FS, opts, setter)
		if err != nil {
			return res, err
		}
		res.Files, res.Edits = files, edits
		if len(files) == 0 {
			opts.Logger.V(1).Info("images up to date", "revision", art.Revision)
			return res, nil
		}
		change := git.Change{Branch: opts.Branch, Files: files, Author: opts.Author, Message: Message(opts.Subject, edits)}
		if art.Commit != nil {
			change.Parent = art.Commit.Hash
		}
		rev, err := opts.Repository.Push(ctx, change)
		if errors.Is(err, git.ErrNonFastForward) && res.Attempts < opts.MaxAttempts {
			opts.Logger.V(1).Info("branch moved; editing the new head", "attempt", res.Attempts)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("update: %w", err)
		}
		res.Revision, res.Pushed = rev, true
		opts.Logger.V(1).Info("pushed image updates", "revision", rev, "edits", len(edits))
		return res, nil
	}
}

// Choose scans each policy's image with scanner and returns the images the
// policies choose, in policy order, with digests for policies that pin them.
func Choose(ctx context.Context, scanner Scanner, policies []Policy) ([]Image, error) {
	images := make([]Image, 0, len(policies))
	for _, p := range policies {
		tags, err := scanner.Tags(ctx, p.Image)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.Name, err)
		}
		tag, err := p.Latest(tags)
		if err != nil {
			return nil, err
		}
		img := Image{Policy: p.Name, Name: p.Image, Tag: tag}
		if p.Digest {
			if img.Digest, err = scanner.Digest(ctx, p.Image, tag); err != nil {
				return nil, fmt.Errorf("policy %q: %w", p.Name, err)
			}
		}
		images = append(images, img)
	}
	return images, nil
}

// editTree runs the setter over the YAML files under opts.Path and returns the
// changed files and the edits.
func editTree(fsys fs.FS, opts Options, setter *Setter) (map[string][]byte, []Edit, error) {
	root := strings.Trim(opts.Path, "/")
	if root == "" {
		root = "."
	}
	files := map[string][]byte{}
	var edits []Edit
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isYAMLFile(p) || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > opts.MaxFileSize {
			opts.Logger.V(1).Info("skipping a large file", "file", p, "size", info.Size())
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out, e, err := setter.Set(p, data)
		if errors.Is(err, ErrNotYAML) {
			opts.Logger.V(1).Info("skipping a file that is not YAML", "file", p)
			return nil
		}
		if err != nil {
			return err
		}
		if len(e) > 0 {
			files[p] = out
			edits = append(edits, e...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("update: %w", err)
	}
	return files, edits, nil
}

func isYAMLFile(p string) bool {
	switch path.Ext(p) {
	case ".yaml", ".yml":
		return true
	}
	return path.Base(p) == "Kustomization"
}

// Message returns a commit message: subject, a blank line, and one line per edit,
// "- file:line: old → new (policy)", sorted by file and line.
func Message(subject string, edits []Edit) string {
	sorted := append([]Edit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].File != sorted[j].File {
			return sorted[i].File < sorted[j].File
		}
		return sorted[i].Line < sorted[j].Line
	})
	var b strings.Builder
	b.WriteString(subject)
	b.WriteString("\n\n")
	for _, e := range sorted {
		old, next := e.Old, e.New
		if old == "" {
			old = "(none)"
		}
		if next == "" {
			next = "(removed)"
		}
		fmt.Fprintf(&b, "- %s:%d: %s → %s (%s)\n", e.File, e.Line, old, next, e.Policy)
	}
	return b.String()
}
