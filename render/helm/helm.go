package helm

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/go-logr/logr"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

// Options configure a [Renderer].
type Options struct {
	// Engine renders charts (default: [V3] with Logger).
	Engine Engine
	// Logger receives debug messages. The zero value discards them.
	Logger logr.Logger
}

// Renderer renders Helm charts found in an artifact, like `helm template`, with
// the release described by render.Options.Helm. It is safe for concurrent use.
type Renderer struct {
	engine Engine
	log    logr.Logger
}

var _ render.Renderer = (*Renderer)(nil)

// New returns a Renderer with opts.
func New(opts Options) *Renderer {
	e := opts.Engine
	if e == nil {
		e = V3(opts.Logger)
	}
	return &Renderer{engine: e, log: opts.Logger}
}

// Render renders the chart in in.Dir. Values files are read from in.FS (paths
// relative to the artifact root; one leaving it is an error wrapping
// render.ErrOutsideRoot). Objects come in Helm's install order: CRDs (unless
// SkipCRDs), then the templates sorted by kind, then hooks, which keep their
// helm.sh/hook annotations; test hooks are left out unless IncludeTests. Each
// object's origin is its template ("mychart/templates/deploy.yaml"). Errors name
// the file at fault.
func (r *Renderer) Render(ctx context.Context, in render.Input, opts render.Options) (*render.Result, error) {
	dir := in.Dir
	if dir == "" {
		dir = "."
	}
	limits := opts.Limits.WithDefaults()
	chart, err := loadChart(in.FS, dir, limits.MaxBytes)
	if err != nil {
		return nil, err
	}
	name, err := chartName(chart)
	if err != nil {
		return nil, err
	}
	h := opts.Helm
	vals, err := mergeValues(in.FS, h)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", dir, err)
	}
	rel := Release{
		Name:         h.ReleaseName,
		Namespace:    h.Namespace,
		Values:       vals,
		KubeVersion:  h.KubeVersion,
		APIVersions:  h.APIVersions,
		IncludeCRDs:  !h.SkipCRDs,
		IncludeTests: h.IncludeTests,
	}
	if rel.Name == "" {
		rel.Name = name
	}
	if rel.Namespace == "" {
		rel.Namespace = "default"
	}
	r.log.V(1).Info("helm template", "chart", dir, "release", rel.Name, "namespace", rel.Namespace)
	out, err := r.engine.Template(ctx, chart, rel)
	if err != nil {
		return nil, err
	}
	res := &render.Result{Warnings: out.Warnings, Renderer: string(render.KindHelm)}
	var size int64
	for _, d := range out.Documents {
		size += int64(len(d.Content))
		if err := limits.Check(len(res.Manifests), size); err != nil {
			return nil, fmt.Errorf("render chart %s: %s: %w", dir, d.Path, err)
		}
		dec := object.Decoder{MaxObjects: limits.MaxObjects - len(res.Manifests), MaxBytes: limits.MaxBytes}
		if dec.MaxObjects <= 0 {
			return nil, fmt.Errorf("render chart %s: %s: %w", dir, d.Path, limits.Check(len(res.Manifests)+1, size))
		}
		ms, err := dec.Decode(strings.NewReader(d.Content), d.Path)
		if errors.Is(err, object.ErrLimit) {
			return nil, fmt.Errorf("render chart %s: %w: %w", dir, render.ErrLimit, err)
		} else if err != nil {
			return nil, fmt.Errorf("render chart %s: %w", dir, err)
		}
		res.Manifests = append(res.Manifests, ms...)
	}
	return res, nil
}

// chartName reads the name in Chart.yaml, failing with an error naming the file
// when it cannot be parsed.
func chartName(c Chart) (string, error) {
	for _, f := range c.Files {
		if f.Name != "Chart.yaml" {
			continue
		}
		var md struct {
			Name string `json:"name"`
		}
		if err := yaml.Unmarshal(f.Data, &md); err != nil {
			return "", fmt.Errorf("%s: %w", path.Join(c.Dir, f.Name), err)
		}
		if md.Name == "" {
			return "", fmt.Errorf("%s: chart has no name", path.Join(c.Dir, f.Name))
		}
		return md.Name, nil
	}
	return "", fmt.Errorf("%s: no Chart.yaml", c.Dir)
}
