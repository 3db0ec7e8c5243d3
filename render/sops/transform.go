package sops

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

// Transform decrypts the rendered objects of res in place, as Flux's
// kustomize-controller does after a build: an object holding SOPS metadata (a
// top-level "sops" entry) has its values decrypted and the metadata removed,
// and a Secret's data or stringData entry that holds a whole SOPS file (a
// kustomize secretGenerator's file source) is replaced by the file decrypted,
// in the format its key's extension names (see [Decryptor.Decrypt]).
//
// Each value of an object is authenticated with its path (AES-GCM), but a
// rendered object no longer has the order of the fields of its file, so the
// MAC of an object's metadata, which covers all values in the file's order,
// cannot be checked here: decrypt files as they are read ([Renderer]) to have
// it checked. The MAC of a file in a Secret's entry is checked.
//
// Transform has the signature of reconcile.Transformer, so that a Decryptor can
// be one of reconcile.Options.Transforms. On error, res may be partly
// decrypted; the error names the object and the file it came from, and wraps
// [ErrNoKey], [ErrMAC], [ErrInvalid] or [ErrUnsupported].
func (d *Decryptor) Transform(ctx context.Context, res *render.Result) error {
	for _, m := range res.Manifests {
		if err := d.transform(ctx, m.Object); err != nil {
			return fmt.Errorf("%s (%s): %w", object.IDOf(m.Object).KubectlString(), m.Origin, err)
		}
	}
	return nil
}

func (d *Decryptor) transform(ctx context.Context, u *unstructured.Unstructured) error {
	if meta, ok := u.Object["sops"].(map[string]any); ok {
		md, err := parseMetadata(meta)
		if err != nil {
			return err
		}
		key, err := d.dataKey(ctx, md)
		if err != nil {
			return err
		}
		delete(u.Object, "sops")
		if _, err := decryptTree(u.Object, nil, md, key); err != nil {
			return err
		}
		logging.From(ctx, d.opts.Logger).V(1).Info("sops: decrypted object", "object", object.IDOf(u).KubectlString())
	}
	if u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return nil
	}
	for _, field := range []string{"data", "stringData"} {
		data, _ := u.Object[field].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(data)) {
			s, _ := data[k].(string)
			if isEnvMAC(field, k, s) {
				return fmt.Errorf("%w: %s.%s: generated from a SOPS-encrypted env file that was not decrypted", ErrInvalid, field, k)
			}
			raw := []byte(s)
			if field == "data" {
				var err error
				if raw, err = base64.StdEncoding.DecodeString(s); err != nil {
					continue // not base64: the API server will say so
				}
			}
			if !IsEncrypted(k, raw) {
				continue
			}
			out, err := d.Decrypt(ctx, k, raw)
			if err != nil {
				return fmt.Errorf("%s.%w", field, err)
			}
			if field == "data" {
				data[k] = base64.StdEncoding.EncodeToString(out)
			} else {
				data[k] = string(out)
			}
		}
	}
	return nil
}

// isEnvMAC reports whether the entry k of a Secret's field holds the MAC of a
// SOPS dotenv file: the Secret was generated from one not decrypted.
func isEnvMAC(field, k, s string) bool {
	if k != "sops_mac" {
		return false
	}
	if field == "data" {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return false
		}
		s = string(b)
	}
	return strings.HasPrefix(s, encPrefix)
}

// isEncodedSOPS reports whether s, a Secret's data entry named k, is the base64
// of a SOPS file.
func isEncodedSOPS(k, s string) bool {
	raw, err := base64.StdEncoding.DecodeString(s)
	return err == nil && IsEncrypted(k, raw)
}

// decryptTree decrypts the values of v, a JSON-like tree, at and below path.
func decryptTree(v any, path []string, md *metadata, key []byte) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n, err := decryptTree(v[k], append(path[:len(path):len(path)], k), md, key)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case []any:
		for i, e := range v {
			n, err := decryptTree(e, path, md, key)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	case nil:
		return nil, nil
	}
	if !md.match.encrypted(path) {
		return v, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s: not encrypted", ErrInvalid, pathString(path))
	}
	p, err := decryptValue(s, key, aad(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pathString(path), err)
	}
	return p.value(), nil
}
