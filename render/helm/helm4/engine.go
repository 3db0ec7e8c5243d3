package helm4

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/helm/internal/chartcheck"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

// New returns the Helm 4 engine (helm.sh/helm/v4), which renders like
// `helm template` of a release helm 4 binary: client-only, with no cluster and
// no network. With an empty helm.Release.KubeVersion, charts see Helm 4's
// default, the version of the client-go the program is built with (a
// helm.Renderer always sets one). logger receives Helm's debug messages; the
// zero value discards them. The engine is safe for concurrent use.
func New(logger logr.Logger) helm.Engine {
	return v4{log: logger}
}

type v4 struct {
	log logr.Logger
}

// Template renders c as rel, as helm.Engine says. What Helm 4 logs through
// log/slog's default logger while it renders (values it cannot merge, unknown
// hooks, …) becomes Output.Warnings and V(1) lines of the logger, unless the
// program has replaced slog's default handler.
func (e v4) Template(ctx context.Context, c helm.Chart, rel helm.Release) (*helm.Output, error) {
	var (
		out    *helm.Output
		sorted []string // what sorting logged, on other goroutines
		err    error
	)
	logged := capture.Log(func() { out, sorted, err = e.template(ctx, c, rel) })
	logged = append(logged, sorted...)
	for _, l := range logged {
		logging.From(ctx, e.log).V(1).Info("helm warning", "chart", c.Dir, "warning", l)
	}
	if err != nil {
		return nil, err
	}
	out.Warnings = append(out.Warnings, logged...)
	return out, nil
}

// template runs the steps of Helm 4's client-only install (action.Install
// with a dry run, as `helm template` does) on c, without release storage.
func (e v4) template(ctx context.Context, c helm.Chart, rel helm.Release) (*helm.Output, []string, error) {
	files := make([]*archive.BufferedFile, len(c.Files))
	for i, f := range c.Files {
		files[i] = &archive.BufferedFile{Name: f.Name, Data: f.Data}
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, nil, fmt.Errorf("load chart %s: %w", c.Dir, err)
	}
	var out helm.Output
	switch ch.Metadata.Type {
	case "", "application":
	default:
		return nil, nil, fmt.Errorf("chart %s: %s charts are not installable", c.Dir, ch.Metadata.Type)
	}
	if ch.Metadata.Deprecated {
		out.Warnings = append(out.Warnings, fmt.Sprintf("chart %s is deprecated", ch.Name()))
	}
	if err := checkDependencies(ch); err != nil {
		return nil, nil, fmt.Errorf("chart %s: %w", c.Dir, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := chartutil.ValidateReleaseName(rel.Name); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: release name %q: %w", c.Dir, rel.Name, err)
	}
	if err := chartutil.ProcessDependencies(ch, rel.Values); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	caps := common.DefaultCapabilities.Copy()
	if rel.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(rel.KubeVersion)
		if err != nil {
			return nil, nil, fmt.Errorf("kube version %q: %w", rel.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	caps.APIVersions = append(slices.Clip(caps.APIVersions), rel.APIVersions...)
	if want := ch.Metadata.KubeVersion; want != "" && !chartutil.IsCompatibleRange(want, caps.KubeVersion.String()) {
		return nil, nil, fmt.Errorf("render chart %s: chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.Dir, want, caps.KubeVersion.Version)
	}
	opts := common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: 1, IsInstall: true}
	vals, err := util.ToRenderValuesWithSchemaValidation(ch, rel.Values, opts, caps, true)
	if err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	// Helm's own schema check reads the files and fetches the URLs a schema
	// refers to: this one, helm.V3's, refuses them.
	coalesced, _ := vals["Values"].(common.Values)
	if err := chartcheck.Schema(chartcheck.Of(ch, func(c *chart.Chart) []byte { return c.Schema }), coalesced); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	// The zero Engine has no cluster (lookup finds nothing) and no DNS
	// (getHostByName answers nothing).
	rendered, err := engine.Engine{}.RenderWithContext(ctx, ch, vals)
	if err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	if err := chartcheck.Size(rendered, rel.MaxBytes); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	for name := range rendered {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(rendered, name)
		}
	}
	sorted := sortManifests(rendered)
	if sorted.err != nil {
		return nil, sorted.logged, fmt.Errorf("render chart %s: %w", c.Dir, sorted.err)
	}
	hooks, manifests := sorted.hooks, sorted.manifests
	if rel.IncludeCRDs {
		for _, crd := range ch.CRDObjects() {
			out.Documents = append(out.Documents, helm.Document{Path: crd.Filename, Content: string(crd.File.Data) + "\n"})
		}
	}
	for _, m := range manifests {
		out.Documents = append(out.Documents, helm.Document{Path: m.Name, Content: m.Content + "\n"})
	}
	for _, h := range hooks {
		if !rel.IncludeTests && slices.Contains(h.Events, release.HookTest) {
			continue
		}
		// Without a newline at the end, as helm.V3 gives hooks.
		out.Documents = append(out.Documents, helm.Document{Path: h.Path, Content: h.Manifest})
	}
	return &out, sorted.logged, nil
}

// checkDependencies fails, naming them, when dependencies listed in Chart.yaml
// are not among the chart's loaded subcharts, as `helm template` does.
func checkDependencies(ch *chart.Chart) error {
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if !slices.ContainsFunc(ch.Dependencies(), func(sub *chart.Chart) bool { return sub.Name() == d.Name }) {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
}
