package helm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
)

// resolveHTTP picks the version of ref from its HTTP repository's index.yaml.
func (r *remote) resolveHTTP(ctx context.Context, ref render.HelmChart) (resolvedChart, error) {
	if _, err := checkURL(ref.Repository, "https", "http"); err != nil {
		return resolvedChart{}, err
	}
	indexURL, err := resolveURL(ref.Repository, "index.yaml")
	if err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: %w", redact(ref.Repository), err)
	}
	data, err := r.get(ctx, indexURL, r.opts.MaxIndexBytes)
	if err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: %w", redact(ref.Repository), err)
	}
	idx, err := parseIndex(data)
	if err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: index.yaml: %w", redact(ref.Repository), err)
	}
	versions, ok := idx.Entries[ref.Name]
	if !ok {
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s: %w", redact(ref.Repository), ref.Name, ErrChartNotFound)
	}
	cv, err := pickVersion(versions, ref.Version)
	switch {
	case err != nil:
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s: %w: no version matches %q", redact(ref.Repository), ref.Name, ErrChartNotFound, ref.Version)
	case len(cv.URLs) == 0:
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s %s has no URL", redact(ref.Repository), ref.Name, cv.Version)
	}
	u, err := resolveURL(ref.Repository, cv.URLs[0])
	if err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s %s: %w", redact(ref.Repository), ref.Name, cv.Version, err)
	}
	if _, err := checkURL(u, "https", "http"); err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s %s: %w", redact(ref.Repository), ref.Name, cv.Version, err)
	}
	return resolvedChart{Version: cv.Version, URL: u, Digest: cv.Digest}, nil
}

// index is a chart repository's index.yaml, with the fields Helm's own reader
// (helm.sh/helm/v3/pkg/repo, which this package does not import: it links Helm's
// command-line and Kubernetes client stack) accepts, so that strict YAML refuses
// what Helm refuses.
type index struct {
	ServerInfo  map[string]any           `json:"serverInfo,omitempty"`
	APIVersion  string                   `json:"apiVersion"`
	Generated   time.Time                `json:"generated"`
	Entries     map[string][]*indexEntry `json:"entries"`
	PublicKeys  []string                 `json:"publicKeys,omitempty"`
	Annotations map[string]string        `json:"annotations,omitempty"`
}

// indexEntry is one version of a chart in an index.
type indexEntry struct {
	*chart.Metadata
	URLs    []string  `json:"urls"`
	Created time.Time `json:"created,omitempty"`
	Removed bool      `json:"removed,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	// Fields of older indexes that Helm ignores but a strict reader must know.
	Checksum      string `json:"checksum,omitempty"`
	Engine        string `json:"engine,omitempty"`
	TillerVersion string `json:"tillerVersion,omitempty"`
	URL           string `json:"url,omitempty"`
}

// parseIndex reads a repository index as Helm does: JSON or strict YAML, entries
// that fail validation dropped (as Helm's, but for a duplicated dependency name), versions sorted newest first.
func parseIndex(data []byte) (*index, error) {
	if len(data) == 0 {
		return nil, errors.New("empty index.yaml file")
	}
	idx := &index{}
	var err error
	if json.Valid(data) {
		err = json.Unmarshal(data, idx)
	} else {
		err = yaml.UnmarshalStrict(data, idx)
	}
	if err != nil {
		return nil, err
	}
	if idx.APIVersion == "" {
		return nil, errors.New("no API version specified")
	}
	for name, versions := range idx.Entries {
		valid := versions[:0]
		for _, cv := range versions {
			if cv == nil {
				continue
			}
			if cv.Metadata == nil {
				cv.Metadata = &chart.Metadata{}
			}
			if cv.APIVersion == "" {
				cv.APIVersion = chart.APIVersionV1
			}
			if err := cv.Validate(); err != nil && !skippable(err) {
				continue
			}
			valid = append(valid, cv)
		}
		// Newest first; versions that are not semver last.
		slices.SortStableFunc(valid, func(a, b *indexEntry) int {
			return -compareVersions(a.Version, b.Version)
		})
		idx.Entries[name] = valid
	}
	return idx, nil
}

// skippable tells the validation errors of an index entry that Helm ignores:
// two dependencies of one name, which some repositories produce by dropping
// their aliases.
func skippable(err error) bool {
	var verr chart.ValidationError
	return errors.As(err, &verr) && strings.HasPrefix(verr.Error(), "validation: more than one dependency with name or alias")
}

// compareVersions orders two chart versions as Helm's index does, a version
// that is not semver below any that is.
func compareVersions(a, b string) int {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	switch {
	case errA != nil && errB != nil:
		return 0
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return va.Compare(vb)
}

// pickVersion returns the first of versions (newest first) that is constraint
// exactly, else the newest that meets it; an empty constraint takes the newest
// stable version.
func pickVersion(versions []*indexEntry, constraint string) (*indexEntry, error) {
	c := constraint
	if c == "" {
		c = "*"
	}
	want, err := semver.NewConstraint(c)
	if err != nil {
		return nil, err
	}
	if constraint != "" {
		for _, cv := range versions {
			if cv.Version == constraint {
				return cv, nil
			}
		}
	}
	for _, cv := range versions {
		if v, err := semver.NewVersion(cv.Version); err == nil && want.Check(v) {
			return cv, nil
		}
	}
	return nil, fmt.Errorf("no chart version found for %s", constraint)
}

// resolveURL resolves ref against the repository URL base as Helm does: base is
// a directory (a trailing slash is added) and keeps its query.
func resolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("failed to parse %s as URL: %w", ref, err)
	}
	if r.IsAbs() {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("failed to parse %s as URL: %w", base, err)
	}
	b.RawPath = strings.TrimSuffix(b.RawPath, "/") + "/"
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	u := b.ResolveReference(r)
	u.RawQuery = b.RawQuery
	return u.String(), nil
}
