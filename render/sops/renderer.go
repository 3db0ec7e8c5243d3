package sops

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

// Renderer renders with another renderer, which reads the artifact through a
// file system that decrypts SOPS files as they are read: the manifests of a
// plain directory, a kustomization's resources, patches and generator sources
// (a secretGenerator fed by an encrypted .env, .json, .yaml or other file), a
// Helm chart's values files. Decrypted content stays in memory. Then it runs
// [Decryptor.Transform] on the result, for Secrets whose data holds a whole
// SOPS file.
//
// A file that does not decrypt (no key opens it, its MAC does not verify, it is
// malformed) is read as it is, and fails the render when the result shows it
// was used: an object that still holds SOPS metadata, a Secret generated from
// an encrypted source, a Helm chart's values file. So a renderer that reads the
// whole artifact (render/isolate streams it to its child) is not failed by the
// encrypted files of another application in the same repository. The error
// names the file, and the document when it has several. An object that still
// holds SOPS metadata fails the render even when no file failed (its file is
// larger than Options.MaxBytes, a template made it): decrypting it after the
// render would not check its MAC. A ConfigMap holding a decrypted file (a
// configMapGenerator fed by a SOPS file) fails the render too.
//
// A Renderer is a [render.Pinner]: its pin holds [Decryptor.Digest], so a
// render.Cache in front of it renders again when the keys change. It is safe
// for concurrent use when the renderer it wraps is.
type Renderer struct {
	next render.Renderer
	d    *Decryptor
}

var (
	_ render.Renderer = (*Renderer)(nil)
	_ render.Pinner   = (*Renderer)(nil)
)

// NewRenderer returns a Renderer that renders with next and decrypts with d.
func NewRenderer(next render.Renderer, d *Decryptor) *Renderer {
	return &Renderer{next: next, d: d}
}

// Render renders in with the wrapped renderer, the artifact's files decrypted.
func (r *Renderer) Render(ctx context.Context, in render.Input, opts render.Options) (*render.Result, error) {
	dfs := newDecryptFS(ctx, in.FS, r.d)
	in.FS = dfs
	res, err := r.next.Render(ctx, in, opts)
	fails := dfs.failures()
	if err != nil {
		if len(fails) > 0 {
			// The render may have failed on a file it read undecrypted.
			return nil, errors.Join(append([]error{err}, nearest(fails, path.Join(in.Dir, "*"))...)...)
		}
		return nil, err
	}
	if err := check(in, opts, res, fails); err != nil {
		return nil, err
	}
	if err := checkConfigMaps(res, dfs); err != nil {
		return nil, err
	}
	if err := r.d.Transform(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Pin returns "sops:" and the Decryptor's digest, followed by the wrapped
// renderer's pin when it is a render.Pinner.
func (r *Renderer) Pin(ctx context.Context, in render.Input, opts render.Options) (string, error) {
	pin := "sops:" + r.d.Digest()
	if p, ok := r.next.(render.Pinner); ok {
		s, err := p.Pin(ctx, in, opts)
		if err != nil {
			return "", err
		}
		if s != "" {
			pin += " " + s
		}
	}
	return pin, nil
}

// check fails the render when its result used a file that did not decrypt, or
// holds an object with SOPS metadata: one whose file was not decrypted as it
// was read (it did not decrypt, or is larger than MaxBytes), which must not be
// decrypted now, where its MAC cannot be checked.
func check(in render.Input, opts render.Options, res *render.Result, fails map[string]error) error {
	if res.Renderer == string(render.KindHelm) {
		dir := path.Clean(in.Dir)
		for _, name := range slices.Sorted(maps.Keys(fails)) {
			if slices.Contains(opts.Helm.ValuesFiles, name) || dir == "." || name == dir || strings.HasPrefix(name, dir+"/") {
				return fails[name]
			}
		}
	}
	for _, m := range res.Manifests {
		if !holdsUndecrypted(m) {
			continue
		}
		if err, ok := fails[m.Origin.File]; ok {
			return err
		}
		id := object.IDOf(m.Object).KubectlString()
		if len(fails) > 0 {
			return fmt.Errorf("%s (%s): %w: built from a file that did not decrypt: %w", id, m.Origin, ErrInvalid, errors.Join(nearest(fails, m.Origin.File)...))
		}
		if _, ok := m.Object.Object["sops"]; ok {
			return fmt.Errorf("%s (%s): %w: SOPS metadata not decrypted as its file was read (a file over the Decryptor's MaxBytes, or an object a template made)", id, m.Origin, ErrInvalid)
		}
	}
	return nil
}

// checkConfigMaps refuses a ConfigMap holding a decrypted file, as a
// configMapGenerator listing a SOPS file makes one: a ConfigMap is not masked in
// diffs and is readable by whoever may read ConfigMaps. (Flux decrypts only a
// secretGenerator's sources, so there the ConfigMap would hold the ciphertext.)
func checkConfigMaps(res *render.Result, dfs *decryptFS) error {
	for _, m := range res.Manifests {
		if m.Object.GetKind() != "ConfigMap" || m.Object.GroupVersionKind().Group != "" {
			continue
		}
		for _, field := range []string{"data", "binaryData"} {
			data, _ := m.Object.Object[field].(map[string]any)
			for _, k := range slices.Sorted(maps.Keys(data)) {
				s, _ := data[k].(string)
				b := []byte(s)
				if field == "binaryData" {
					var err error
					if b, err = base64.StdEncoding.DecodeString(s); err != nil {
						continue
					}
				}
				if file := dfs.decryptedFrom(b); file != "" {
					return fmt.Errorf("%s (%s): %s.%s holds %s decrypted: a SOPS-encrypted file belongs in a Secret (a secretGenerator)",
						object.IDOf(m.Object).KubectlString(), m.Origin, field, k, file)
				}
			}
		}
	}
	return nil
}

// holdsUndecrypted reports whether m holds SOPS metadata or, for a Secret,
// data generated from a SOPS file that was not decrypted.
func holdsUndecrypted(m object.Manifest) bool {
	if _, ok := m.Object.Object["sops"].(map[string]any); ok {
		return true
	}
	if m.Object.GetKind() != "Secret" {
		return false
	}
	for _, field := range []string{"data", "stringData"} {
		data, _ := m.Object.Object[field].(map[string]any)
		for k, v := range data {
			s, _ := v.(string)
			if isEnvMAC(field, k, s) || (field == "data" && isEncodedSOPS(k, s)) || (field == "stringData" && IsEncrypted(k, []byte(s))) {
				return true
			}
		}
	}
	return false
}

// nearest returns the errors of the files in the directory of file or below
// it, or all of them when there is none.
func nearest(fails map[string]error, file string) []error {
	dir := path.Dir(file) + "/"
	near := map[string]error{}
	for name, err := range fails {
		if dir == "./" || strings.HasPrefix(name, dir) {
			near[name] = err
		}
	}
	if len(near) == 0 {
		near = fails
	}
	return sortedErrors(near)
}

func sortedErrors(m map[string]error) []error {
	out := make([]error, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
