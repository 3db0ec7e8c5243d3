package helm

import (
	"context"
)

// Engine renders a chart that is already in memory. It is the seam between this
// package, which reads files safely and merges values, and a Helm version: [V3] is
// the Helm 3 SDK and the default; render/helm/helm4.New is the Helm 4 SDK, in
// its own package so that only programs that select it link Helm 4. An Engine
// must not reach the network or a cluster: `lookup` finds nothing.
// Implementations are safe for concurrent use.
type Engine interface {
	Template(ctx context.Context, chart Chart, rel Release) (*Output, error)
}

// Chart is a chart's files, as read from the artifact.
type Chart struct {
	// Dir is the chart's directory in the artifact, for errors.
	Dir string
	// Files are the chart's files with slash-separated paths relative to Dir
	// ("Chart.yaml", "templates/deploy.yaml", "charts/sub/Chart.yaml",
	// "charts/sub-1.0.0.tgz"), .helmignore already applied.
	Files []File
}

// File is one file of a chart.
type File struct {
	Name string
	Data []byte
}

// Release is what a chart is rendered as.
type Release struct {
	Name      string
	Namespace string
	// Values are the user-supplied values, merged already; the engine adds the
	// chart's own defaults and its dependencies' as Helm does.
	Values map[string]any
	// KubeVersion is .Capabilities.KubeVersion; empty means the engine's default
	// ([V3]'s is the version of the Kubernetes libraries the program is built
	// with). A [Renderer] always sets it.
	KubeVersion string
	// APIVersions are added to .Capabilities.APIVersions.
	APIVersions []string
	// IncludeCRDs adds the files of the charts' crds/ directories.
	IncludeCRDs bool
	// IncludeTests keeps test hooks.
	IncludeTests bool
	// MaxBytes bounds the rendered templates, all together: past it, Template
	// fails with an error wrapping render.ErrLimit that names the template, before
	// the output is sorted or joined. Zero means no limit.
	MaxBytes int64
}

// Output is a rendered chart.
type Output struct {
	// Documents are the rendered files in Helm's install order, CRDs first and
	// hooks last, as `helm template` prints them.
	Documents []Document
	// Warnings are notes for a human (deprecated charts and the like).
	Warnings []string
}

// Document is one rendered template or CRD file, which may hold several YAML
// documents.
type Document struct {
	// Path is the file it was rendered from, starting with the chart name
	// ("mychart/templates/deploy.yaml", "mychart/charts/sub/templates/svc.yaml").
	Path string
	// Content is the rendered YAML.
	Content string
}
