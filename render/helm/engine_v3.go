package helm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render/helm/internal/chartcheck"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

// V3 returns the Helm 3 engine (helm.sh/helm/v3), which renders like
// `helm template` of a release helm binary: client-only, with no cluster and no
// network, and, unless the release says otherwise, the Kubernetes version of the
// client-go the program is built with. logger receives Helm's debug messages;
// the zero value discards them.
func V3(logger logr.Logger) Engine {
	return v3{log: logger}
}

type v3 struct {
	log logr.Logger
}

func (e v3) Template(ctx context.Context, c Chart, rel Release) (*Output, error) {
	out, _, err := e.templateDecoded(ctx, c, rel, nil)
	return out, err
}

// templateDecoded is Template that, given dec, also decodes the documents with
// it, on all processors, returning the results beside Output.Documents: the
// renderer then reads each document once instead of twice (Helm's manifest
// sorting parses every document too).
func (e v3) templateDecoded(ctx context.Context, c Chart, rel Release, dec *object.Decoder) (*Output, []decoded, error) {
	var (
		out  *Output
		decs []decoded
		err  error
	)
	// What Helm prints with the standard logger (values it cannot merge, a
	// requirements.yaml in a v2 chart, …) is a warning of this render.
	// Helm merges values more than once, and says so each time: capture.Log keeps a
	// message once.
	logged := capture.Log(func() { out, decs, err = e.template(ctx, c, rel, dec) })
	for _, l := range logged {
		logging.From(ctx, e.log).V(1).Info("helm warning", "chart", c.Dir, "warning", l)
	}
	if err != nil {
		return nil, nil, err
	}
	out.Warnings = append(out.Warnings, logged...)
	return out, decs, nil
}

func (e v3) template(ctx context.Context, c Chart, rel Release, dec *object.Decoder) (*Output, []decoded, error) {
	files := make([]*loader.BufferedFile, len(c.Files))
	for i, f := range c.Files {
		files[i] = &loader.BufferedFile{Name: f.Name, Data: f.Data}
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, nil, fmt.Errorf("load chart %s: %w", c.Dir, err)
	}
	var out Output
	switch ch.Metadata.Type {
	case "", "application":
	default:
		return nil, nil, fmt.Errorf("chart %s: %s charts are not installable", c.Dir, ch.Metadata.Type)
	}
	if ch.Metadata.Deprecated {
		out.Warnings = append(out.Warnings, fmt.Sprintf("chart %s is deprecated", ch.Name()))
	}
	if req := ch.Metadata.Dependencies; req != nil {
		if err := checkDependencies(ch, req); err != nil {
			return nil, nil, fmt.Errorf("chart %s: %w", c.Dir, err)
		}
	}

	// What `helm template` does through action.Install, without joining every
	// template into one release manifest (and copying it several times) before
	// its size can be checked: the templates' output is checked as the Helm
	// engine returns it.
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := chartutil.ValidateReleaseName(rel.Name); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: release name %q: %w", c.Dir, rel.Name, err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, rel.Values); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	kubeVersion := rel.KubeVersion
	if kubeVersion == "" {
		kubeVersion = defaultKubeVersion()
	}
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("kube version %q: %w", kubeVersion, err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	caps.APIVersions = append(caps.APIVersions, rel.APIVersions...)
	if want := ch.Metadata.KubeVersion; want != "" && !chartutil.IsCompatibleRange(want, caps.KubeVersion.String()) {
		return nil, nil, fmt.Errorf("render chart %s: chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.Dir, want, caps.KubeVersion.String())
	}
	opts := chartutil.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: 1, IsInstall: true}
	vals, err := chartutil.ToRenderValuesWithSchemaValidation(ch, rel.Values, opts, caps, true)
	if err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	// Helm's own schema check reads the files and fetches the URLs a schema
	// refers to: this one refuses them.
	coalesced, _ := vals["Values"].(chartutil.Values)
	if err := chartcheck.Schema(chartcheck.Of(ch, func(c *chart.Chart) []byte { return c.Schema }), coalesced); err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	// No cluster: lookup finds nothing; no DNS: getHostByName answers nothing.
	rendered, err := engine.Engine{}.Render(ch, vals)
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
	manifests, hooks, err := sortManifests(rendered, dec)
	if err != nil {
		return nil, nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	var decs []decoded
	if rel.IncludeCRDs {
		for _, crd := range ch.CRDObjects() {
			out.Documents = append(out.Documents, Document{Path: crd.Filename, Content: string(crd.File.Data) + "\n"})
			decs = append(decs, decoded{})
		}
	}
	for _, m := range manifests {
		out.Documents = append(out.Documents, Document{Path: m.path, Content: m.content + "\n"})
		decs = append(decs, m.decoded)
	}
	for _, h := range hooks {
		if !rel.IncludeTests && h.test {
			continue
		}
		out.Documents = append(out.Documents, Document{Path: h.path, Content: h.content})
		decs = append(decs, h.decoded)
	}
	return &out, decs, nil
}

// checkDependencies fails, naming them, when dependencies listed in Chart.yaml
// are not among the chart's loaded subcharts, as `helm template` does.
func checkDependencies(ch *chart.Chart, deps []*chart.Dependency) error {
	var missing []string
	for _, d := range deps {
		if !slices.ContainsFunc(ch.Dependencies(), func(sub *chart.Chart) bool { return sub.Name() == d.Name }) {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("found in Chart.yaml, but missing in charts/ directory: %s", strings.Join(missing, ", "))
	}
	return nil
}
