package helm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
)

// resolveHTTP picks the version of ref from its HTTP repository's index.yaml.
func (r *remote) resolveHTTP(ctx context.Context, ref render.HelmChart) (resolvedChart, error) {
	if _, err := checkURL(ref.Repository, "https", "http"); err != nil {
		return resolvedChart{}, err
	}
	indexURL, err := repo.ResolveReferenceURL(ref.Repository, "index.yaml")
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
	cv, err := idx.Get(ref.Name, ref.Version)
	switch {
	case errors.Is(err, repo.ErrNoChartName):
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s: %w", redact(ref.Repository), ref.Name, ErrChartNotFound)
	case err != nil:
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s: %w: no version matches %q", redact(ref.Repository), ref.Name, ErrChartNotFound, ref.Version)
	case len(cv.URLs) == 0:
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s %s has no URL", redact(ref.Repository), ref.Name, cv.Version)
	}
	u, err := repo.ResolveReferenceURL(ref.Repository, cv.URLs[0])
	if err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s %s: %w", redact(ref.Repository), ref.Name, cv.Version, err)
	}
	if _, err := checkURL(u, "https", "http"); err != nil {
		return resolvedChart{}, fmt.Errorf("repository %s: chart %s %s: %w", redact(ref.Repository), ref.Name, cv.Version, err)
	}
	return resolvedChart{Version: cv.Version, URL: u, Digest: cv.Digest}, nil
}

// parseIndex reads a repository index as Helm does: JSON or strict YAML, entries
// that fail validation dropped, versions sorted newest first.
func parseIndex(data []byte) (*repo.IndexFile, error) {
	if len(data) == 0 {
		return nil, repo.ErrEmptyIndexYaml
	}
	idx := &repo.IndexFile{}
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
		return nil, repo.ErrNoAPIVersion
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
			if cv.Validate() != nil {
				continue
			}
			valid = append(valid, cv)
		}
		idx.Entries[name] = valid
	}
	idx.SortEntries()
	return idx, nil
}
