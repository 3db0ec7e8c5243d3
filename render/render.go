package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
)

// Default limits of a render. A render that exceeds one fails with [ErrLimit].
const (
	DefaultMaxObjects = object.DefaultMaxObjects // objects in one result
	DefaultMaxBytes   = 64 << 20                 // bytes of rendered YAML in one result
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrLimit means a render exceeded [Limits]. It wraps object.ErrLimit too.
	ErrLimit = fmt.Errorf("render %w", object.ErrLimit)
	// ErrOutsideRoot means a path leaves the artifact root (".." or an absolute path).
	ErrOutsideRoot = errors.New("path outside the artifact root")
	// ErrRemote means the input refers to a remote location and the renderer was not
	// allowed to fetch it.
	ErrRemote = errors.New("remote reference not allowed")
	// ErrNoRenderer means the directory needs a renderer (kustomize, Helm) that the
	// caller did not configure.
	ErrNoRenderer = errors.New("no renderer configured")
	// ErrNestedInput means a plain directory holds a kustomization or a Helm
	// chart in a directory below it, which [Plain] does not read as YAML.
	ErrNestedInput = errors.New("kustomization or chart inside a plain directory")
	// ErrUnset means strict variable substitution met a variable with no value.
	ErrUnset = errors.New("variable not set")
	// ErrUnknownKind means the default-namespace transform could not tell whether a
	// kind is namespaced.
	ErrUnknownKind = errors.New("unknown kind")
)

// Renderer renders a directory of an artifact into objects. Implementations read
// files only through in.FS and only at or below its root; they do not reach the
// network or run programs unless their own options say so. A Renderer is safe for
// concurrent use.
type Renderer interface {
	Render(ctx context.Context, in Input, opts Options) (*Result, error)
}

// Pinner is implemented by renderers whose output depends on remote content as
// well as on the Input and Options, such as a Helm chart pulled from a repository
// with a version constraint. Pin resolves such references (to exact versions and
// digests) without rendering and returns a string identifying them, or "" when the
// render uses no remote content. [Cache] adds it to its key, so that a new
// upstream version is not served from the cache.
type Pinner interface {
	Pin(ctx context.Context, in Input, opts Options) (string, error)
}

// Input is what to render: a directory of an artifact.
type Input struct {
	// FS is the artifact root. Every file is read through it, so it must confine
	// reads to the root: (*os.Root).FS refuses paths and symlinks that escape it
	// (os.DirFS does not). fstest.MapFS suits tests.
	FS fs.FS
	// Dir is the directory to render, slash-separated and relative to the root
	// ("." or "" for the root itself).
	Dir string
	// Digest identifies the content of FS, such as the artifact's digest or a Git
	// commit. [Cache] uses it with the options as the key; empty disables caching.
	Digest string
}

// dir returns the cleaned directory, "." for the root, or ErrOutsideRoot.
func (in Input) dir() (string, error) {
	d := in.Dir
	if d == "" {
		d = "."
	}
	if !fs.ValidPath(d) {
		return "", fmt.Errorf("render %q: %w", in.Dir, ErrOutsideRoot)
	}
	return d, nil
}

// Options are the per-call settings of a render. The zero value renders plain YAML
// with the default limits and a Helm release named after the chart. Options are
// plain data: [Cache] hashes them into its key.
type Options struct {
	// Include selects the files of a plain directory by glob, relative to Dir
	// ("*.yaml", "apps/**/*.yml"; "**" matches any number of directories). The
	// default is every .yaml, .yml and .json file, recursively.
	Include []string `json:"include,omitempty"`
	// Exclude removes files and directories matched by any glob from a plain
	// directory, after Include.
	Exclude []string `json:"exclude,omitempty"`
	// Helm configures the release when the directory is a Helm chart.
	Helm HelmOptions `json:"helm,omitzero"`
	// Limits bound the output.
	Limits Limits `json:"limits,omitzero"`
}

// Limits bound what a render may produce. Zero fields take the defaults.
type Limits struct {
	// MaxObjects bounds the number of objects (default [DefaultMaxObjects]).
	MaxObjects int `json:"maxObjects,omitempty"`
	// MaxBytes bounds the rendered YAML in bytes (default [DefaultMaxBytes]).
	MaxBytes int64 `json:"maxBytes,omitempty"`
}

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxObjects <= 0 {
		l.MaxObjects = DefaultMaxObjects
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Decoder returns an object.Decoder enforcing l.
func (l Limits) Decoder() object.Decoder {
	l = l.WithDefaults()
	return object.Decoder{MaxBytes: l.MaxBytes, MaxObjects: l.MaxObjects}
}

// Check returns an error wrapping [ErrLimit] when n objects or size bytes exceed l.
func (l Limits) Check(n int, size int64) error {
	l = l.WithDefaults()
	if n > l.MaxObjects {
		return fmt.Errorf("%w: %d objects, more than %d", ErrLimit, n, l.MaxObjects)
	}
	if size > l.MaxBytes {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrLimit, size, l.MaxBytes)
	}
	return nil
}

// HelmOptions describe a Helm release to render. Values are merged in Helm's order:
// the chart's values.yaml, then ValuesFiles in order, then Values, then Set, then
// SetString (each later source wins, maps merge key by key).
type HelmOptions struct {
	// ReleaseName is .Release.Name (default: the chart's name).
	ReleaseName string `json:"releaseName,omitempty"`
	// Namespace is .Release.Namespace (default "default").
	Namespace string `json:"namespace,omitempty"`
	// ValuesFiles are values files, slash-separated and relative to the artifact
	// root; they must stay inside it.
	ValuesFiles []string `json:"valuesFiles,omitempty"`
	// Values are inline values, merged after the files.
	Values map[string]any `json:"values,omitempty"`
	// Set are --set style overrides ("a.b=c,d[0]=e").
	Set []string `json:"set,omitempty"`
	// SetString are --set-string style overrides, whose values stay strings.
	SetString []string `json:"setString,omitempty"`
	// KubeVersion is .Capabilities.KubeVersion ("v1.37.2"). The default is the
	// cluster's when the Helm renderer has one, else the version of the Kubernetes
	// libraries the program is built with (see package render/helm).
	KubeVersion string `json:"kubeVersion,omitempty"`
	// APIVersions are added to .Capabilities.APIVersions ("monitoring.coreos.com/v1"
	// or "monitoring.coreos.com/v1/ServiceMonitor").
	APIVersions []string `json:"apiVersions,omitempty"`
	// SkipCRDs leaves out the CRDs of the charts' crds/ directories.
	SkipCRDs bool `json:"skipCRDs,omitempty"`
	// IncludeTests keeps the chart's test hooks (helm.sh/hook: test), which are left
	// out by default.
	IncludeTests bool `json:"includeTests,omitempty"`
	// Chart names a chart in an HTTP chart repository or an OCI registry to render
	// instead of a chart in Input.Dir (values files are still read from Input.FS).
	// The Helm renderer fetches it only when its own options allow remote charts;
	// otherwise the render fails with [ErrRemote].
	Chart *HelmChart `json:"chart,omitempty"`
}

// HelmChart is a reference to a chart in a remote repository, as a dependency of
// Chart.yaml names one.
type HelmChart struct {
	// Repository is the URL of an HTTP(S) chart repository
	// ("https://charts.example.com/stable", which serves index.yaml) or of an OCI
	// repository ("oci://registry.example.com/charts").
	Repository string `json:"repository"`
	// Name is the chart's name; in an OCI registry the chart is Repository/Name.
	Name string `json:"name"`
	// Version is an exact version or a semver constraint ("1.2.3", "^1.2",
	// ">=1.0 <2"); the highest matching version wins. Empty means the latest
	// stable version.
	Version string `json:"version,omitempty"`
}

// String returns the reference as "repository/name@version".
func (c HelmChart) String() string {
	s := strings.TrimSuffix(c.Repository, "/") + "/" + c.Name
	if c.Version != "" {
		s += "@" + c.Version
	}
	return s
}

// Result is the output of a render.
type Result struct {
	// Manifests are the objects in the renderer's order, each with the file it came
	// from: the YAML file, the kustomize resource, or the Helm template
	// ("mychart/templates/deploy.yaml").
	Manifests []object.Manifest
	// Warnings are notes for a human that did not stop the render, such as the
	// deprecations kustomize and Helm would print.
	Warnings []string
	// Renderer names the renderer that produced the result: "plain", "kustomize"
	// or "helm".
	Renderer string
}

// DeepCopy returns a copy of r that shares nothing with it.
func (r *Result) DeepCopy() *Result {
	if r == nil {
		return nil
	}
	out := &Result{
		Manifests: make([]object.Manifest, len(r.Manifests)),
		Warnings:  append([]string(nil), r.Warnings...),
		Renderer:  r.Renderer,
	}
	// Large results are copied by all processors: copying is most of a cache hit.
	parallel.Split(len(r.Manifests), parallelCopyChunk, func(i int) {
		m := r.Manifests[i]
		out.Manifests[i] = object.Manifest{Object: &unstructured.Unstructured{Object: copyMap(m.Object.Object)}, Origin: m.Origin}
	})
	return out
}

// parallelCopyChunk is the number of objects below which a copy is not shared
// between processors.
const parallelCopyChunk = 128

// copyMap deep-copies a JSON-like map. maps.Clone copies a map's table in one go,
// which makes this about twice as fast as copying entry by entry
// (runtime.DeepCopyJSON); only nested maps and slices are copied again.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		switch v := v.(type) {
		case map[string]any:
			out[k] = copyMap(v)
		case []any:
			out[k] = copySlice(v)
		}
	}
	return out
}

func copySlice(s []any) []any {
	out := slices.Clone(s)
	for i, v := range out {
		switch v := v.(type) {
		case map[string]any:
			out[i] = copyMap(v)
		case []any:
			out[i] = copySlice(v)
		}
	}
	return out
}
