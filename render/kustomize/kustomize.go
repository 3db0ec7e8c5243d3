package kustomize

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/internal/yamlcheck"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

// LoadRestrictions says which files a kustomization may read.
type LoadRestrictions int

const (
	// RootOnly lets a kustomization read files only at or below its own directory
	// (kustomize's default, --load-restrictor LoadRestrictionsRootOnly). Bases and
	// components in other directories of the artifact are still allowed.
	RootOnly LoadRestrictions = iota
	// AnyInArtifact lets a kustomization read any file of the artifact
	// (LoadRestrictionsNone, still confined to the artifact root).
	AnyInArtifact
)

// Options configure a [Renderer]. The zero value is the safe default: files only
// below each kustomization's root, no Helm chart inflation, no remote bases, and
// builtin plugins only.
type Options struct {
	// LoadRestrictions limits the files a kustomization reads (default RootOnly).
	LoadRestrictions LoadRestrictions
	// EnableHelm turns on kustomize's helmCharts inflation (--enable-helm), which
	// runs the program HelmCommand. The chart must be in the kustomization (pulling
	// from a repository needs AllowRemote too).
	EnableHelm bool
	// HelmCommand is the helm program EnableHelm runs (default "helm").
	HelmCommand string
	// AllowRemote lets kustomizations refer to remote bases and files (Git URLs,
	// HTTP(S) files, Helm repositories), which kustomize fetches by running git and
	// by HTTP. Off, any such reference fails the render with render.ErrRemote,
	// before anything is fetched: in a kustomization, and in the configuration of
	// a builtin plugin (a PatchTransformer's path, a ConfigMapGenerator's files, …)
	// that a kustomization's generators, transformers or validators list.
	AllowRemote bool
	// Logger receives debug messages; unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Renderer renders kustomizations with the kustomize API (krusty), like
// `kustomize build`. Exec, container and Starlark function plugins are always off.
// It is safe for concurrent use, but builds one kustomization at a time (see
// buildMu).
type Renderer struct {
	opts Options
}

var _ render.Renderer = (*Renderer)(nil)

// New returns a Renderer with opts.
func New(opts Options) *Renderer {
	if opts.HelmCommand == "" {
		opts.HelmCommand = "helm"
	}
	return &Renderer{opts: opts}
}

// buildMu serialises kustomize builds. kyaml keeps the OpenAPI schema that
// strategic merge follows in process-wide variables, which krusty sets from the
// kustomization's openapi field and never puts back: each build runs alone and
// starts and ends with the default schema (resetSchema), so that it sees what
// `kustomize build` sees in a fresh process, whatever ran before. The lock can go
// when kustomize keeps the schema per build (kubernetes-sigs/kustomize#4824).
var buildMu sync.Mutex

// defaultSchema is what kyaml reports as its schema in a process that set none.
var defaultSchema = openapi.GetSchemaVersion()

// resetSchema puts kyaml's OpenAPI schema back to the default when something set
// another. Parsing the default schema again costs a few milliseconds, so it is
// dropped only when it is not the default.
func resetSchema() {
	if openapi.GetSchemaVersion() != defaultSchema {
		openapi.ResetOpenAPI()
	}
}

// Render builds the kustomization in in.Dir, as `kustomize build` does, and returns
// its objects in kustomize's output order. A directory without a kustomization is
// built as Flux's kustomize-controller builds it, from the kustomization it would
// generate: its subdirectories holding a kustomization as bases, and its other
// .yaml and .yml files, recursively, as resources. Each object's origin is the file
// it was declared in (or, for generated objects, the kustomization that generated
// it), relative to the artifact root. Options.Include, Exclude and Helm do not
// apply. Errors name the kustomization or file at fault, with paths starting at
// the artifact root ("/"); a path that leaves the artifact root is an error
// wrapping render.ErrOutsideRoot.
func (r *Renderer) Render(ctx context.Context, in render.Input, opts render.Options) (*render.Result, error) {
	dir := in.Dir
	if dir == "" {
		dir = "."
	}
	if !fs.ValidPath(dir) {
		return nil, fmt.Errorf("kustomize build %q: %w", in.Dir, render.ErrOutsideRoot)
	}
	top := path.Clean("/" + dir)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys := in.FS
	gen, err := generate(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", top, err)
	}
	if gen != nil {
		fsys = newWithFile(fsys, path.Join(dir, "kustomization.yaml"), gen)
	}
	limits := opts.Limits.WithDefaults()
	rd := &reader{opts: r.opts, top: top, maxBytes: limits.MaxBytes, stderr: capture.NewStderr(isDeprecation)}
	afs := artifactFS{fsys: fsys, rd: rd}
	if !r.opts.AllowRemote {
		afs.guard = &pluginGuard{}
	}

	logging.From(ctx, r.opts.Logger).V(1).Info("kustomize build", "dir", top, "generated", gen != nil)
	m, err := r.build(afs, top, rd)
	for _, w := range rd.warnings {
		logging.From(ctx, r.opts.Logger).V(1).Info("kustomize warning", "dir", top, "warning", w)
	}
	if err != nil {
		if rd.err != nil {
			return nil, fmt.Errorf("kustomize build %s: %w", top, rd.err)
		}
		return nil, fmt.Errorf("kustomize build %s: %w", top, err)
	}
	if err := limits.Check(m.Size(), rd.bytes); err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", top, err)
	}
	ms, err := manifests(m, top, rd.keepOrigin)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", top, err)
	}
	return &render.Result{Manifests: ms, Warnings: rd.warnings, Renderer: string(render.KindKustomize)}, nil
}

// isDeprecation reports whether kustomize printed line as a deprecation warning,
// which the reader has already taken, with the kustomization's name.
func isDeprecation(line string) bool {
	return strings.HasPrefix(line, "# Warning: '") && strings.Contains(line, "deprecated")
}

// build runs krusty on top, alone (see buildMu). What kustomize prints goes to
// rd.warnings, not to the process's output (see package capture). A panic in
// kustomize, such as kyaml's on a custom OpenAPI schema it cannot parse, is
// returned as an error.
func (r *Renderer) build(afs artifactFS, top string, rd *reader) (m resmap.ResMap, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	resetSchema()
	defer resetSchema()
	defer rd.stderr.Stop()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("kustomize failed: %v", p)
			if msg := fmt.Sprint(p); len(rd.schemas) > 0 && strings.Contains(msg, "schema") {
				err = fmt.Errorf("openapi schema %s: %s", strings.Join(rd.schemas, ", "), msg)
			}
		}
	}()
	logged := capture.Log(func() { m, err = krusty.MakeKustomizer(r.krustyOptions()).Run(afs, top) })
	for _, l := range logged {
		rd.warnings = append(rd.warnings, "kustomize: "+l)
	}
	return m, err
}

func (r *Renderer) krustyOptions() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.Reorder = krusty.ReorderOptionUnspecified // what `kustomize build` does
	o.LoadRestrictions = types.LoadRestrictionsRootOnly
	if r.opts.LoadRestrictions == AnyInArtifact {
		o.LoadRestrictions = types.LoadRestrictionsNone
	}
	// Builtins only: no exec, container or Starlark functions, no Go plugins.
	o.PluginConfig = types.DisabledPluginConfig()
	if r.opts.EnableHelm {
		o.PluginConfig.HelmConfig.Enabled = true
		o.PluginConfig.HelmConfig.Command = r.opts.HelmCommand
	}
	return o
}

// manifests converts kustomize's resources to manifests with their origins,
// removing the marks the render added (see originField). Resources are converted
// by all processors: for a large build it is a noticeable part of the time left
// after kustomize's own.
func manifests(m resmap.ResMap, top string, keepOrigin bool) ([]object.Manifest, error) {
	resources := m.Resources()
	out := make([]object.Manifest, len(resources))
	errs := make([]error, len(resources))
	parallel.Split(len(resources), 64, func(i int) {
		res := resources[i]
		js, err := res.MarshalJSON()
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", res.CurId(), err)
			return
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			errs[i] = fmt.Errorf("%s: %w", res.CurId(), err)
			return
		}
		out[i] = object.Manifest{Object: u, Origin: originOf(u, top, keepOrigin)}
		// A patch or a generator can bring an integer the reader did not see.
		if err := yamlcheck.Numbers(res.YNode(), 1); err != nil {
			errs[i] = &object.DecodeError{Origin: object.Origin{File: out[i].Origin.File},
				Err: fmt.Errorf("%w: %s %s: %w", object.ErrInvalid, u.GetKind(), u.GetName(), err)}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// originOf returns the file u came from and removes the marks that said it: the
// origin annotation kustomize adds when the kustomization asks for it, else the
// renderer's originField or generatorAnnotation, else the top kustomization.
func originOf(u *unstructured.Unstructured, top string, keepOrigin bool) object.Origin {
	origin := object.Origin{File: path.Join(top, "kustomization.yaml")}
	tag, tagged := u.Object[originField].(string)
	delete(u.Object, originField)
	a := u.GetAnnotations()
	gen, generated := a[generatorAnnotation]
	if generated {
		delete(a, generatorAnnotation)
		if len(a) == 0 {
			a = nil
		}
		u.SetAnnotations(a)
	}
	var o resource.Origin
	switch {
	case keepOrigin && a[originAnnotation] != "" && yaml.Unmarshal([]byte(a[originAnnotation]), &o) == nil:
		switch {
		case o.Repo != "":
			origin.File = o.Repo + "//" + o.Path
		case o.Path != "":
			origin.File = path.Join(top, o.Path)
		case o.ConfiguredIn != "":
			origin.File = path.Join(top, o.ConfiguredIn)
		}
	case tagged:
		origin.File = tag
	case generated:
		origin.File = gen
	}
	origin.File = trimRoot(origin.File)
	return origin
}

// trimRoot turns kustomize's absolute paths into paths relative to the artifact.
func trimRoot(p string) string {
	if len(p) > 1 && p[0] == '/' {
		return p[1:]
	}
	return p
}
