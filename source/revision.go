package source

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRevision is returned (wrapped) by [ParseRevision] for a malformed string.
var ErrInvalidRevision = errors.New("invalid revision")

// Revision is a parsed revision string: an optional ref name, a digest algorithm
// and a hexadecimal digest.
type Revision struct {
	// Ref is the branch, tag or reference name before "@"; empty for a bare digest.
	Ref string
	// Algorithm is "sha1" or "sha256".
	Algorithm string
	// Hash is the lower-case hexadecimal digest.
	Hash string
}

// String formats r as "<ref>@<algorithm>:<hash>", or "<algorithm>:<hash>" without a ref.
func (r Revision) String() string {
	if r.Ref == "" {
		return r.Algorithm + ":" + r.Hash
	}
	return r.Ref + "@" + r.Algorithm + ":" + r.Hash
}

// ParseRevision parses a revision in Flux's format ("main@sha1:<40 hex>",
// "sha256:<64 hex>"). The ref is everything before the last "@", so ref names
// holding "@" survive. It returns an error wrapping [ErrInvalidRevision] when the
// algorithm is unknown or the hash has the wrong length or characters.
func ParseRevision(s string) (Revision, error) {
	var r Revision
	digest := s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		r.Ref, digest = s[:i], s[i+1:]
		if r.Ref == "" {
			return Revision{}, fmt.Errorf("revision %q: empty ref before '@': %w", s, ErrInvalidRevision)
		}
	}
	algo, hash, ok := strings.Cut(digest, ":")
	if !ok {
		return Revision{}, fmt.Errorf("revision %q: want <algorithm>:<hash>: %w", s, ErrInvalidRevision)
	}
	var want int
	switch algo {
	case "sha1":
		want = 40
	case "sha256":
		want = 64
	default:
		return Revision{}, fmt.Errorf("revision %q: unknown algorithm %q: %w", s, algo, ErrInvalidRevision)
	}
	if len(hash) != want {
		return Revision{}, fmt.Errorf("revision %q: %s hash has %d characters, want %d: %w", s, algo, len(hash), want, ErrInvalidRevision)
	}
	for _, c := range []byte(hash) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return Revision{}, fmt.Errorf("revision %q: hash is not lower-case hexadecimal: %w", s, ErrInvalidRevision)
		}
	}
	r.Algorithm, r.Hash = algo, hash
	return r, nil
}
