// Package chartcheck holds the checks the Helm 3 and Helm 4 engines of
// render/helm make alike around Helm's template engine.
package chartcheck

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gitopskit/gitopskit/render"
)

// Size fails with an error wrapping render.ErrLimit, naming the template, when
// the rendered templates hold more than maxBytes (0: no limit). Templates are
// counted in name order, so the one named is the same from run to run.
func Size(files map[string]string, maxBytes int64) error {
	if maxBytes <= 0 {
		return nil
	}
	var total int64
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if total += int64(len(files[name])); total > maxBytes {
			return fmt.Errorf("%s: %w: rendered templates larger than %d bytes", name, render.ErrLimit, maxBytes)
		}
	}
	return nil
}
