package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/redact"
	"github.com/gitopskit/gitopskit/render"
)

// pluginFiles names, for each builtin plugin whose configuration can name a
// file, the fields that do. Kustomize's loader fetches such a file by HTTP when
// it is an http(s) URL (FileLoader.Load), whatever the kustomization allows; the
// loader cannot be told not to, so the configurations are checked as they are
// read, before kustomize gets them.
var pluginFiles = map[string][]string{
	"PatchTransformer":               {"path"},
	"PatchJson6902Transformer":       {"path"},
	"PatchStrategicMergeTransformer": {"paths"},
	"ReplacementTransformer":         {"replacements.path"},
	"ConfigMapGenerator":             {"files", "envs", "env"},
	"SecretGenerator":                {"files", "envs", "env"},
	"HelmChartInflationGenerator":    {"repo", "valuesFile", "additionalValuesFiles"},
	"ValueAddTransformer":            {"targetFilePath"},
}

// pluginGuard refuses, unless remote references are allowed, the builtin plugin
// configurations that name a remote file: in the generators, transformers and
// validators a kustomization lists inline, in the files it lists there, and in
// any other file read during the build (a directory listed there is a
// kustomization whose resources are configurations).
type pluginGuard struct {
	listedBy map[string]string // file read → the kustomization that refers to it
}

// check looks at the file name (absolute, "/" being the artifact root) that
// kustomize read as data, and returns an error wrapping render.ErrRemote naming
// the kustomization, the file and the URL when it holds a configuration naming a
// remote file.
func (g *pluginGuard) check(name string, data []byte) error {
	if !slices.Contains(render.KustomizationFiles, path.Base(name)) {
		ref := remotePluginFile(data)
		if ref == "" {
			return nil
		}
		if k := g.listedBy[name]; k != "" {
			return fmt.Errorf("%s: %s: %w: %s", k, name, render.ErrRemote, redact.URL(ref))
		}
		return fmt.Errorf("%s: %w: %s", name, render.ErrRemote, redact.URL(ref))
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil // kustomize reports it
	}
	if g.listedBy == nil {
		g.listedBy = map[string]string{}
	}
	dir := path.Dir(name)
	for _, list := range [][]string{k.Generators, k.Transformers, k.Validators, k.Resources} {
		for _, entry := range list {
			if ref := remotePluginFile([]byte(entry)); ref != "" {
				return fmt.Errorf("%s: %w: %s", name, render.ErrRemote, redact.URL(ref))
			}
			if !strings.Contains(entry, "\n") {
				if p := path.Join(dir, entry); g.listedBy[p] == "" {
					g.listedBy[p] = name
				}
			}
		}
	}
	return nil
}

// remotePluginFile returns the first http(s) URL that a builtin plugin
// configuration in data (a stream of YAML documents, or a List of them) names as
// a file, or "".
func remotePluginFile(data []byte) string {
	// Most files name no URL and configure no plugin: they are not parsed.
	if !bytes.Contains(data, []byte("://")) || !bytes.Contains(data, []byte("Transformer")) && !bytes.Contains(data, []byte("Generator")) {
		return ""
	}
	dec := kyaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return "" // kustomize reports it
		}
		if ref := remoteInConfig(doc); ref != "" {
			return ref
		}
	}
}

// remoteInConfig returns the first remote file named by the plugin configuration
// doc, or by the items of a List.
func remoteInConfig(doc any) string {
	m, ok := doc.(map[string]any)
	if !ok {
		return ""
	}
	kind, _ := m["kind"].(string)
	if strings.HasSuffix(kind, "List") {
		items, _ := m["items"].([]any)
		for _, it := range items {
			if ref := remoteInConfig(it); ref != "" {
				return ref
			}
		}
		return ""
	}
	for _, field := range pluginFiles[kind] {
		for _, v := range values(m, strings.Split(field, ".")) {
			if isHTTP(v) {
				return v
			}
			// A generator's file source may be "key=path".
			if _, p, ok := strings.Cut(v, "="); ok && isHTTP(p) {
				return p
			}
		}
	}
	return ""
}

// values returns the strings at the field path keys of v, going through lists.
func values(v any, keys []string) []string {
	switch v := v.(type) {
	case string:
		if len(keys) == 0 {
			return []string{v}
		}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, values(e, keys)...)
		}
		return out
	case map[string]any:
		if len(keys) > 0 {
			return values(v[keys[0]], keys[1:])
		}
	}
	return nil
}

// isHTTP reports whether kustomize's loader would fetch ref by HTTP.
func isHTTP(ref string) bool {
	u, err := url.Parse(strings.TrimSpace(ref))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}
