package helm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/bounded"
)

// mergeValues merges the user-supplied values of h in Helm's order: values files,
// inline values, --set, --set-string. Later sources win; maps merge key by key.
// The values files hold at most maxBytes in all.
func mergeValues(fsys fs.FS, h render.HelmOptions, maxBytes int64) (map[string]any, error) {
	base := map[string]any{}
	left := maxBytes
	for _, name := range h.ValuesFiles {
		vals, n, err := readValues(fsys, name, left, maxBytes)
		if err != nil {
			return nil, err
		}
		left -= n
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

// readValues reads a values file of the artifact, of at most left bytes (what
// the limit maxBytes leaves), and returns its values and its size.
func readValues(fsys fs.FS, name string, left, maxBytes int64) (map[string]any, int64, error) {
	clean := path.Clean(name)
	if !fs.ValidPath(clean) {
		return nil, 0, fmt.Errorf("values file %q: %w", name, render.ErrOutsideRoot)
	}
	data, err := bounded.ReadFile(fsys, clean, left)
	if errors.Is(err, bounded.ErrTooLarge) {
		return nil, 0, fmt.Errorf("values file %s: %w: values files larger than %d bytes", clean, render.ErrLimit, maxBytes)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("values file %s: %w", clean, err)
	}
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, 0, fmt.Errorf("values file %s: %w", clean, err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return vals, int64(len(data)), nil
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
