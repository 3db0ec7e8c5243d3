package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// Kind is the kind of input a directory holds.
type Kind string

// The kinds [Detect] tells apart.
const (
	KindPlain     Kind = "plain"
	KindKustomize Kind = "kustomize"
	KindHelm      Kind = "helm"
)

// KustomizationFiles are the file names that make a directory a kustomization, in
// the order kustomize looks for them.
var KustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// Detect tells what dir of fsys holds: a kustomization (one of
// [KustomizationFiles]), a Helm chart (Chart.yaml), or plain YAML and JSON. A
// kustomization wins over a chart. A directory with neither, but with a
// kustomization in a directory below it (Flux's clusters/<name>, whose
// flux-system/ holds one), is a kustomization too: the kustomize renderer builds
// it as Flux's kustomize-controller does. It fails only when dir cannot be read.
func Detect(fsys fs.FS, dir string) (Kind, error) {
	in := Input{FS: fsys, Dir: dir}
	d, err := in.dir()
	if err != nil {
		return "", err
	}
	for _, name := range KustomizationFiles {
		if ok, err := isFile(fsys, path.Join(d, name)); err != nil {
			return "", err
		} else if ok {
			return KindKustomize, nil
		}
	}
	if ok, err := isFile(fsys, path.Join(d, "Chart.yaml")); err != nil {
		return "", err
	} else if ok {
		return KindHelm, nil
	}
	if ok, err := kustomizationBelow(fsys, d); err != nil {
		return "", err
	} else if ok {
		return KindKustomize, nil
	}
	return KindPlain, nil
}

// kustomizationBelow reports whether a directory below dir holds a kustomization
// file. Symlinked directories are not followed, as Plain does not follow them.
func kustomizationBelow(fsys fs.FS, dir string) (bool, error) {
	found := false
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if d.IsDir() || path.Dir(name) == dir || !slices.Contains(KustomizationFiles, d.Name()) {
			return nil
		}
		if ok, err := isFile(fsys, name); err != nil || !ok {
			return err
		}
		found = true
		return fs.SkipAll
	})
	return found, err
}

func isFile(fsys fs.FS, name string) (bool, error) {
	fi, err := fs.Stat(fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return fi.Mode().IsRegular(), nil
}

// Auto renders a directory with the renderer its content calls for (see [Detect]).
// Kustomize and Helm are optional so that a program imports render/kustomize and
// render/helm only when it sets them:
//
//	r := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
//
// A kustomization or chart with no renderer set is an error wrapping
// [ErrNoRenderer]. Auto is safe for concurrent use when its renderers are.
type Auto struct {
	// Plain renders plain directories (default: [Plain]{}).
	Plain Renderer
	// Kustomize renders kustomizations; nil refuses them.
	Kustomize Renderer
	// Helm renders Helm charts; nil refuses them.
	Helm Renderer
}

// Render detects the kind of in.Dir and renders it. Options naming a remote Helm
// chart (opts.Helm.Chart) always go to the Helm renderer.
func (a Auto) Render(ctx context.Context, in Input, opts Options) (*Result, error) {
	r, err := a.pick(in, opts)
	if err != nil {
		return nil, err
	}
	return r.Render(ctx, in, opts)
}

// Pin returns what the renderer picked for in pins (see [Pinner]), or "" when it
// is not a Pinner.
func (a Auto) Pin(ctx context.Context, in Input, opts Options) (string, error) {
	r, err := a.pick(in, opts)
	if err != nil {
		return "", err
	}
	if p, ok := r.(Pinner); ok {
		return p.Pin(ctx, in, opts)
	}
	return "", nil
}

func (a Auto) pick(in Input, opts Options) (Renderer, error) {
	kind := KindHelm
	if opts.Helm.Chart == nil {
		var err error
		if kind, err = Detect(in.FS, in.Dir); err != nil {
			return nil, fmt.Errorf("render %s: %w", in.Dir, err)
		}
	}
	var r Renderer
	switch kind {
	case KindKustomize:
		r = a.Kustomize
	case KindHelm:
		r = a.Helm
	default:
		r = a.Plain
		if r == nil {
			r = Plain{}
		}
	}
	if r == nil {
		return nil, fmt.Errorf("render %s: directory is a %s input: %w", displayDir(in.Dir), kind, ErrNoRenderer)
	}
	return r, nil
}

func displayDir(d string) string {
	if d == "" {
		return "."
	}
	return d
}
