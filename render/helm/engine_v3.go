package helm

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"

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

// sourcePrefix starts each file of the manifest Helm 3 renders.
const sourcePrefix = "---\n# Source: "

func (e v3) Template(ctx context.Context, c Chart, rel Release) (*Output, error) {
	var (
		out *Output
		err error
	)
	// What Helm prints with the standard logger (values it cannot merge, a
	// requirements.yaml in a v2 chart, …) is a warning of this render.
	// Helm merges values more than once, and says so each time: capture.Log keeps a
	// message once.
	logged := capture.Log(func() { out, err = e.template(ctx, c, rel) })
	for _, l := range logged {
		e.log.V(1).Info("helm warning", "chart", c.Dir, "warning", l)
	}
	if err != nil {
		return nil, err
	}
	out.Warnings = append(out.Warnings, logged...)
	return out, nil
}

func (e v3) template(ctx context.Context, c Chart, rel Release) (*Output, error) {
	files := make([]*loader.BufferedFile, len(c.Files))
	for i, f := range c.Files {
		files[i] = &loader.BufferedFile{Name: f.Name, Data: f.Data}
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", c.Dir, err)
	}
	var out Output
	switch ch.Metadata.Type {
	case "", "application":
	default:
		return nil, fmt.Errorf("chart %s: %s charts are not installable", c.Dir, ch.Metadata.Type)
	}
	if ch.Metadata.Deprecated {
		out.Warnings = append(out.Warnings, fmt.Sprintf("chart %s is deprecated", ch.Name()))
	}
	if req := ch.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(ch, req); err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.Dir, err)
		}
	}

	cfg := &action.Configuration{Log: func(format string, v ...any) {
		e.log.V(1).Info(fmt.Sprintf(format, v...))
	}}
	inst := action.NewInstall(cfg)
	inst.DryRun = true
	inst.DryRunOption = "client"
	inst.ClientOnly = true // no cluster: lookup finds nothing, Capabilities are ours
	inst.Replace = true    // skip the name check against (absent) releases
	inst.ReleaseName = rel.Name
	inst.Namespace = rel.Namespace
	inst.IncludeCRDs = rel.IncludeCRDs
	inst.APIVersions = chartutil.VersionSet(rel.APIVersions)
	kubeVersion := rel.KubeVersion
	if kubeVersion == "" {
		kubeVersion = defaultKubeVersion()
	}
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("kube version %q: %w", kubeVersion, err)
	}
	inst.KubeVersion = kv
	r, err := inst.RunWithContext(ctx, ch, rel.Values)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", c.Dir, err)
	}
	out.Documents = splitManifest(r.Manifest)
	for _, h := range r.Hooks {
		if !rel.IncludeTests && isTest(h) {
			continue
		}
		out.Documents = append(out.Documents, Document{Path: h.Path, Content: h.Manifest})
	}
	return &out, nil
}

func isTest(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// splitManifest splits Helm 3's release manifest into its files.
func splitManifest(m string) []Document {
	var out []Document
	for _, part := range strings.Split(m, sourcePrefix) {
		path, content, ok := strings.Cut(part, "\n")
		if !ok || path == "" {
			continue
		}
		out = append(out, Document{Path: path, Content: content})
	}
	return out
}
