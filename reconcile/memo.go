package reconcile

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source"
)

// renderMemo remembers the last render of a Reconciler, keyed by what determines it:
// the artifact's digest, the directory and the render options. Passes over an
// unchanged revision reuse it instead of reading and parsing the files again.
type renderMemo struct {
	key string
	res *render.Result
}

// render returns a copy of the remembered result when the key matches, else
// renders, remembers and returns a copy; rendered says which.
func (m *renderMemo) render(ctx context.Context, r render.Renderer, art *source.Artifact, dir string, opts render.Options) (res *render.Result, rendered bool, err error) {
	o, err := json.Marshal(opts)
	if err != nil {
		return nil, false, fmt.Errorf("render options: %w", err)
	}
	key := ""
	if art.Digest != "" {
		key = fmt.Sprintf("%d:%s%d:%s%s", len(art.Digest), art.Digest, len(dir), dir, o)
	}
	if key != "" && key == m.key {
		return m.res.DeepCopy(), false, nil
	}
	res, err = r.Render(ctx, render.Input{FS: art.FS, Dir: dir, Digest: art.Digest}, opts)
	if err != nil {
		return nil, true, err
	}
	m.key, m.res = key, res
	return res.DeepCopy(), true, nil
}
