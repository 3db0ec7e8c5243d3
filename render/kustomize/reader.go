package kustomize

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
)

// originAnnotation is where kustomize records the file a resource came from when a
// kustomization's buildMetadata lists originAnnotations.
const originAnnotation = "config.kubernetes.io/origin"

// reader sees every file kustomize reads during one build. It counts bytes against
// the limit, refuses kustomizations with remote references unless they are
// allowed, and asks the top kustomization for origin annotations so that every
// object's file is known.
type reader struct {
	opts     Options
	top      string // absolute directory of the top kustomization
	maxBytes int64

	bytes      int64
	keepOrigin bool  // the top kustomization asked for origin annotations itself
	err        error // the first refusal, which kustomize may wrap beyond errors.Is
}

func (rd *reader) read(name string, data []byte) ([]byte, error) {
	rd.bytes += int64(len(data))
	if rd.bytes > rd.maxBytes {
		return nil, rd.fail(fmt.Errorf("%s: %w: read more than %d bytes", name, render.ErrLimit, rd.maxBytes))
	}
	if !slices.Contains(render.KustomizationFiles, path.Base(name)) {
		return data, nil
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return data, nil // kustomize reports it, with its own words
	}
	if !rd.opts.AllowRemote {
		if ref := remoteRef(&k); ref != "" {
			return nil, rd.fail(fmt.Errorf("%s: %w: %s", name, render.ErrRemote, ref))
		}
	}
	if path.Dir(name) == rd.top {
		return rd.withOrigins(data, &k), nil
	}
	return data, nil
}

func (rd *reader) fail(err error) error {
	if rd.err == nil {
		rd.err = err
	}
	return err
}

// withOrigins adds originAnnotations to the buildMetadata of the top
// kustomization, returning data unchanged when it cannot.
func (rd *reader) withOrigins(data []byte, k *types.Kustomization) []byte {
	if slices.Contains(k.BuildMetadata, types.OriginAnnotations) {
		rd.keepOrigin = true
		return data
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil || doc == nil {
		return data
	}
	md, _ := doc["buildMetadata"].([]any)
	doc["buildMetadata"] = append(md, types.OriginAnnotations)
	out, err := yaml.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}

// remoteRef returns the first reference of k that kustomize would fetch from the
// network, or "".
func remoteRef(k *types.Kustomization) string {
	var refs []string
	refs = append(refs, k.Resources...)
	//lint:ignore SA1019 deprecated, still read by kustomize
	refs = append(refs, k.Bases...)
	refs = append(refs, k.Components...)
	refs = append(refs, k.Crds...)
	refs = append(refs, k.Configurations...)
	refs = append(refs, k.Generators...)
	refs = append(refs, k.Transformers...)
	refs = append(refs, k.Validators...)
	//lint:ignore SA1019 deprecated, still read by kustomize
	for _, p := range k.PatchesStrategicMerge {
		refs = append(refs, string(p))
	}
	for _, p := range k.Patches {
		refs = append(refs, p.Path)
	}
	//lint:ignore SA1019 deprecated, still read by kustomize
	for _, p := range k.PatchesJson6902 {
		refs = append(refs, p.Path)
	}
	for _, r := range k.Replacements {
		refs = append(refs, r.Path)
	}
	refs = append(refs, k.OpenAPI["path"])
	gens := make([]types.GeneratorArgs, 0, len(k.ConfigMapGenerator)+len(k.SecretGenerator))
	for _, g := range k.ConfigMapGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range gens {
		for _, f := range g.FileSources {
			_, p, _ := strings.Cut(f, "=")
			if p == "" {
				p = f
			}
			refs = append(refs, p)
		}
		refs = append(refs, g.EnvSources...)
		refs = append(refs, g.EnvSource) // deprecated, still read by kustomize
	}
	for _, h := range k.HelmCharts {
		refs = append(refs, h.Repo)
	}
	for _, r := range refs {
		if isRemote(r) {
			return r
		}
	}
	return ""
}

// scpUser matches the "user@" that starts an SCP-style Git URL.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize would treat ref as a remote location: a URL
// with a scheme, an SCP-style Git URL, or a github.com path. Multi-line values are
// inline content, never locations.
func isRemote(ref string) bool {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.Contains(ref, "\n") {
		return false
	}
	l := strings.ToLower(ref)
	return strings.Contains(l, "://") ||
		strings.HasPrefix(l, "git::") ||
		strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:") ||
		scpUser.MatchString(ref)
}
