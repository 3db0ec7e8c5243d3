package helm

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
)

// mergeValues merges the user-supplied values of h in Helm's order: values files,
// inline values, --set, --set-string. Later sources win; maps merge key by key.
func mergeValues(fsys fs.FS, h render.HelmOptions) (map[string]any, error) {
	base := map[string]any{}
	for _, name := range h.ValuesFiles {
		vals, err := readValues(fsys, name)
		if err != nil {
			return nil, err
		}
		base = mergeMaps(base, vals)
	}
	if len(h.Values) > 0 {
		// A copy through JSON, so the caller's map is never changed by the merge or
		// the engine, and numbers are float64 as in values files.
		vals, err := jsonCopy(h.Values)
		if err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
		base = mergeMaps(base, vals)
	}
	for _, s := range h.Set {
		if err := strvals.ParseInto(s, base); err != nil {
			return nil, fmt.Errorf("set %q: %w", s, err)
		}
	}
	for _, s := range h.SetString {
		if err := strvals.ParseIntoString(s, base); err != nil {
			return nil, fmt.Errorf("set-string %q: %w", s, err)
		}
	}
	return base, nil
}

// readValues reads a values file of the artifact.
func readValues(fsys fs.FS, name string) (map[string]any, error) {
	clean := path.Clean(name)
	if !fs.ValidPath(clean) {
		return nil, fmt.Errorf("values file %q: %w", name, render.ErrOutsideRoot)
	}
	data, err := fs.ReadFile(fsys, clean)
	if err != nil {
		return nil, fmt.Errorf("values file %s: %w", clean, err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, fmt.Errorf("values file %s: %w", clean, err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return vals, nil
}

// mergeMaps merges b into a, as Helm's CLI merges values sources: maps merge
// recursively, anything else in b replaces what a holds.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func jsonCopy(m map[string]any) (map[string]any, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(data, &out)
}
