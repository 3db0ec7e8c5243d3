package update

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/gitopskit/gitopskit/internal/redact"
)

// Image is what a policy chose: the repository, the tag and, when the policy pins
// digests, the tag's manifest digest.
type Image struct {
	// Policy is the name of the policy that chose it.
	Policy string
	// Name is the repository as the policy names it, e.g. "ghcr.io/org/app".
	Name string
	// Tag is the chosen tag.
	Tag string
	// Digest is "sha256:…" when the policy pins digests, else empty.
	Digest string
}

// String returns the reference written into manifests: "name:tag", or
// "name:tag@digest" when pinned.
func (i Image) String() string { return i.Name + ":" + i.TagRef() }

// TagRef returns the tag part of the reference: "tag", or "tag@digest" when pinned.
func (i Image) TagRef() string {
	if i.Digest != "" {
		return i.Tag + "@" + i.Digest
	}
	return i.Tag
}

// reference is an image reference split as written: name[:tag][@digest].
type reference struct {
	name, tag, digest string
}

// splitReference splits an image reference without normalizing it. The tag is the
// part after the last colon that follows the last slash, so a registry port
// ("localhost:5000/app") is not a tag.
func splitReference(s string) reference {
	var r reference
	s, r.digest, _ = strings.Cut(s, "@")
	r.name = s
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		r.name, r.tag = s[:i], s[i+1:]
	}
	return r
}

func (r reference) String() string {
	s := r.name
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// parseRepository parses an image repository leniently (lower-case names, the
// Docker Hub defaults) and fails on what is not a repository.
func parseRepository(s string) (name.Repository, error) {
	if err := refuseCredentials(s); err != nil {
		return name.Repository{}, err
	}
	repo, err := name.NewRepository(s)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%q is not an image repository: %w", s, err)
	}
	return repo, nil
}

// refuseCredentials refuses an image reference holding credentials
// ("user:pass@registry/app"): they belong in [RegistryAuth], and it is refused
// before a parser sees it, since parsers quote fragments of what they refuse.
func refuseCredentials(s string) error {
	if pass := redact.Password(s); pass != "" {
		return fmt.Errorf("%q holds credentials: give them in RegistryAuth", redact.Secrets{pass}.Redact(s))
	}
	return nil
}

// sameRepository reports whether two repository names mean the same repository
// once Docker Hub's defaults are applied ("nginx" is "index.docker.io/library/nginx").
func sameRepository(a, b string) bool {
	if a == b {
		return true
	}
	ra, err := name.NewRepository(a)
	if err != nil {
		return false
	}
	rb, err := name.NewRepository(b)
	if err != nil {
		return false
	}
	return ra.Name() == rb.Name()
}
