package helm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/bounded"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

// Options configure a [Renderer].
type Options struct {
	// Engine renders charts (default: [V3] with Logger; render/helm/helm4.New
	// is Helm 4's).
	Engine Engine
	// Logger receives debug messages; unset, the logger of the call's context
	// (logr.FromContextOrDiscard).
	Logger logr.Logger
	// Cluster, when set, gives .Capabilities.KubeVersion the version of the
	// cluster it reaches (ServerVersion, asked at each render and each Pin) unless
	// render.HelmOptions.KubeVersion sets one, as `helm install` does. A
	// *discovery.DiscoveryClient is one. Without it, charts see the version of the
	// Kubernetes libraries the program is built with (v1.N.0 for k8s.io/client-go
	// v0.N.x), as `helm template` of a release helm binary does.
	Cluster discovery.ServerVersionInterface
	// Remote lets the renderer fetch charts from HTTP chart repositories and OCI
	// registries: a chart named by render.HelmOptions.Chart, and dependencies that
	// a chart's charts/ directory lacks. Nil (the default) reaches no network:
	// such renders fail with render.ErrRemote.
	Remote *RemoteOptions
}

// Renderer renders Helm charts found in an artifact, like `helm template`, with
// the release described by render.Options.Helm. It is safe for concurrent use.
type Renderer struct {
	engine    Engine
	log       logr.Logger
	cluster   discovery.ServerVersionInterface // nil without Options.Cluster
	remote    *remote                          // nil without Options.Remote
	remoteErr error                            // invalid Options.Remote, returned by each render
}

var (
	_ render.Renderer = (*Renderer)(nil)
	_ render.Pinner   = (*Renderer)(nil)
)

// New returns a Renderer with opts. Invalid remote options (a CA bundle with no
// certificate) make each render fail.
func New(opts Options) *Renderer {
	e := opts.Engine
	if e == nil {
		e = V3(opts.Logger)
	}
	r := &Renderer{engine: e, log: opts.Logger, cluster: opts.Cluster}
	if opts.Remote != nil {
		r.remote, r.remoteErr = newRemote(*opts.Remote)
	}
	return r
}

// Render renders the chart in in.Dir, or the remote chart opts.Helm.Chart when
// set (only with Options.Remote; else an error wrapping render.ErrRemote).
// Dependencies that Chart.yaml lists and charts/ lacks are taken from the
// artifact (file:// repositories) or, with Options.Remote, from their
// repositories at the version Chart.lock pins (its digest checked against
// Chart.yaml) or else the highest matching Chart.yaml's constraint. Values files are read from in.FS (paths
// relative to the artifact root; one leaving it is an error wrapping
// render.ErrOutsideRoot). Objects come in Helm's install order: CRDs (unless
// SkipCRDs), then the templates sorted by kind, then hooks, which keep their
// helm.sh/hook annotations; test hooks are left out unless IncludeTests. Each
// object's origin is its template ("mychart/templates/deploy.yaml"). Errors name
// the file at fault.
func (r *Renderer) Render(ctx context.Context, in render.Input, opts render.Options) (*render.Result, error) {
	limits := opts.Limits.WithDefaults()
	var chart Chart
	var err error
	// Helm's .helmignore rules print what they cannot compile.
	logged := capture.Log(func() { chart, err = r.chart(ctx, in, opts.Helm.Chart, limits.MaxBytes) })
	for _, l := range logged {
		logging.From(ctx, r.log).V(1).Info("helm warning", "chart", in.Dir, "warning", l)
	}
	if err != nil {
		return nil, err
	}
	dir := chart.Dir
	name, err := chartName(chart)
	if err != nil {
		return nil, err
	}
	h := opts.Helm
	vals, err := mergeValues(in.FS, h, limits.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", dir, err)
	}
	kubeVersion, err := r.kubeVersion(h)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", dir, err)
	}
	rel := Release{
		Name:         h.ReleaseName,
		Namespace:    h.Namespace,
		Values:       vals,
		KubeVersion:  kubeVersion,
		APIVersions:  h.APIVersions,
		IncludeCRDs:  !h.SkipCRDs,
		IncludeTests: h.IncludeTests,
		MaxBytes:     limits.MaxBytes,
	}
	if rel.Name == "" {
		rel.Name = name
	}
	if rel.Namespace == "" {
		rel.Namespace = "default"
	}
	logging.From(ctx, r.log).V(1).Info("helm template", "chart", dir, "release", rel.Name, "namespace", rel.Namespace)
	// A chart's output is read as Helm reads it (see object.Decoder.Lenient).
	dec := object.Decoder{MaxObjects: limits.MaxObjects, MaxBytes: limits.MaxBytes, Lenient: true}
	var (
		out  *Output
		decs []decoded // by document, when the engine decoded them ahead
	)
	if v, ok := r.engine.(v3); ok {
		out, decs, err = v.templateDecoded(ctx, chart, rel, &dec)
	} else {
		out, err = r.engine.Template(ctx, chart, rel)
	}
	if err != nil {
		return nil, err
	}
	res := &render.Result{Warnings: append(logged, out.Warnings...), Renderer: string(render.KindHelm)}
	var size int64
	for i, d := range out.Documents {
		size += int64(len(d.Content))
		if err := limits.Check(len(res.Manifests), size); err != nil {
			return nil, fmt.Errorf("render chart %s: %s: %w", dir, d.Path, err)
		}
		dec.MaxObjects = limits.MaxObjects - len(res.Manifests)
		if dec.MaxObjects <= 0 {
			return nil, fmt.Errorf("render chart %s: %s: %w", dir, d.Path, limits.Check(len(res.Manifests)+1, size))
		}
		// A document decoded ahead within the objects left is what decoding it
		// now would give; else it is decoded now, for the error.
		if i < len(decs) && decs[i].ok && len(decs[i].manifests) <= dec.MaxObjects {
			res.Manifests = append(res.Manifests, decs[i].manifests...)
			continue
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

// kubeVersion returns the Kubernetes version h asks for, else the cluster's when
// there is one, else the build's (defaultKubeVersion), whatever the engine's
// default.
func (r *Renderer) kubeVersion(h render.HelmOptions) (string, error) {
	if h.KubeVersion != "" {
		return h.KubeVersion, nil
	}
	if r.cluster == nil {
		return defaultKubeVersion(), nil
	}
	v, err := r.cluster.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("cluster version: %w", err)
	}
	return v.GitVersion, nil
}

// chart loads the chart to render: ref from its repository, or the chart in
// in.Dir with the dependencies it lacks.
func (r *Renderer) chart(ctx context.Context, in render.Input, ref *render.HelmChart, maxBytes int64) (Chart, error) {
	if r.remoteErr != nil {
		return Chart{}, r.remoteErr
	}
	if ref != nil {
		if r.remote == nil {
			return Chart{}, fmt.Errorf("chart %s: %w: set helm.Options.Remote to fetch it", redactString(ref.String()), render.ErrRemote)
		}
		c, _, err := r.remote.chart(ctx, *ref, maxBytes, logging.From(ctx, r.log))
		return c, err
	}
	dir := in.Dir
	if dir == "" {
		dir = "."
	}
	c, err := loadChart(in.FS, dir, maxBytes)
	if err != nil {
		return Chart{}, err
	}
	return r.addDependencies(ctx, in.FS, c, maxBytes)
}

// Pin resolves the remote charts a render of in with opts would use (the chart
// of opts.Helm.Chart, or the dependencies the chart in in.Dir lacks) to their
// versions and digests, without downloading them, and asks Options.Cluster for
// its version when the render would, for render.Cache's key. It returns "" when
// the render uses no remote chart (or remote charts are not allowed) and no
// cluster's version. With RemoteOptions.IndexTTL, an answer younger than the TTL is reused
// without asking the server.
func (r *Renderer) Pin(ctx context.Context, in render.Input, opts render.Options) (string, error) {
	var pin string
	if opts.Helm.KubeVersion == "" && r.cluster != nil {
		v, err := r.kubeVersion(opts.Helm)
		if err != nil {
			return "", err
		}
		pin = "kubeVersion " + v + "\n"
	}
	remote, err := r.pinRemote(ctx, in, opts)
	return pin + remote, err
}

func (r *Renderer) pinRemote(ctx context.Context, in render.Input, opts render.Options) (string, error) {
	if r.remote == nil {
		return "", r.remoteErr
	}
	if ref := opts.Helm.Chart; ref != nil {
		rc, err := r.remote.resolve(ctx, *ref)
		return rc.pin(), err
	}
	dir := in.Dir
	if dir == "" {
		dir = "."
	}
	if !fs.ValidPath(dir) {
		return "", fmt.Errorf("chart %q: %w", in.Dir, render.ErrOutsideRoot)
	}
	// Chart.yaml (and requirements.yaml) alone tell whether there is anything to pin.
	limits := opts.Limits.WithDefaults()
	meta := Chart{Dir: dir}
	for _, name := range []string{"Chart.yaml", "requirements.yaml"} {
		if data, err := bounded.ReadFile(in.FS, path.Join(dir, name), limits.MaxBytes); err == nil {
			meta.Files = append(meta.Files, File{Name: name, Data: data})
		}
	}
	if len(meta.Files) == 0 || meta.Files[0].Name != "Chart.yaml" {
		return "", nil // the render reports it
	}
	md, err := chartMetadata(meta)
	if err != nil || !mayNeedRemote(md) {
		return "", err
	}
	c, err := loadChart(in.FS, dir, limits.MaxBytes)
	if err != nil {
		return "", err
	}
	pins, err := r.pinDependencies(ctx, c, limits.MaxBytes)
	return strings.Join(pins, "\n"), err
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
