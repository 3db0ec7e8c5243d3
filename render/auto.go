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
// kustomization wins over a chart. A directory with neither holds plain YAML,
// except one with a kustomization in a directory below it and no chart below
// it (Flux's clusters/<name>, whose flux-system/ holds one): that is a
// kustomization too, which the kustomize renderer builds as Flux's
// kustomize-controller does. With a chart below, Flux's generated kustomization
// would read Chart.yaml, values.yaml and the templates as manifests, so such a
// directory is plain: [Auto] renders each chart and kustomization in it with its
// own renderer. It fails only when dir cannot be read.
func Detect(fsys fs.FS, dir string) (Kind, error) {
	in := Input{FS: fsys, Dir: dir}
	d, err := in.dir()
	if err != nil {
		return "", err
	}
	if kind, _, err := inputAt(fsys, d); err != nil || kind != KindPlain {
		return kind, err
	}
	if ok, err := fileBelow(fsys, d, chartFile); err != nil || ok {
		return KindPlain, err
	}
	if ok, err := fileBelow(fsys, d, KustomizationFiles...); err != nil || ok {
		return KindKustomize, err
	}
	return KindPlain, nil
}

// chartFile is the file that makes a directory a Helm chart.
const chartFile = "Chart.yaml"

// inputAt tells what dir holds by its own files only, and returns the file that
// says so ("" for plain).
func inputAt(fsys fs.FS, dir string) (Kind, string, error) {
	for _, f := range []struct {
		kind Kind
		name string
	}{{KindKustomize, KustomizationFiles[0]}, {KindKustomize, KustomizationFiles[1]}, {KindKustomize, KustomizationFiles[2]}, {KindHelm, chartFile}} {
		name := path.Join(dir, f.name)
		if ok, err := isFile(fsys, name); err != nil {
			return "", "", err
		} else if ok {
			return f.kind, name, nil
		}
	}
	return KindPlain, "", nil
}

// fileBelow reports whether a directory below dir holds a file with one of names.
// Symlinked directories are not followed, as Plain does not follow them.
func fileBelow(fsys fs.FS, dir string, names ...string) (bool, error) {
	found := false
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if d.IsDir() || path.Dir(name) == dir || !slices.Contains(names, d.Name()) {
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
//
// A plain directory is rendered recursively as [Plain] renders it, except that a
// directory below it holding a kustomization or a Chart.yaml is rendered with
// the kustomize or Helm renderer instead of being read as YAML (a repository of
// applications side by side, as Argo CD's example apps lay them out). Such a
// chart is rendered with its own values and a release named after it:
// opts.Helm's release name and values are for a chart at in.Dir, and opts'
// Include and Exclude for the plain files (Exclude also skips a chart or
// kustomization). Its result's Renderer is "plain". A custom Auto.Plain renders
// the whole directory itself.
func (a Auto) Render(ctx context.Context, in Input, opts Options) (*Result, error) {
	r, err := a.pick(in, opts)
	if err != nil {
		return nil, err
	}
	if _, ok := r.(Plain); ok {
		return renderPlain(ctx, in, opts, a.nested)
	}
	return r.Render(ctx, in, opts)
}

// nested renders a kustomization or chart found below a plain directory.
func (a Auto) nested(ctx context.Context, in Input, kind Kind, opts Options) (*Result, error) {
	r := a.Kustomize
	if kind == KindHelm {
		r = a.Helm
		h := opts.Helm
		opts.Helm = HelmOptions{Namespace: h.Namespace, KubeVersion: h.KubeVersion, APIVersions: h.APIVersions, SkipCRDs: h.SkipCRDs, IncludeTests: h.IncludeTests}
	}
	if r == nil {
		return nil, fmt.Errorf("directory is a %s input: %w", kind, ErrNoRenderer)
	}
	opts.Include, opts.Exclude = nil, nil
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
