package helm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/registry"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/gitopskit/gitopskit/render"
)

// registryClient returns Helm's registry client for one call: its HTTP client
// carries ctx and the size limit, and it authenticates with
// RemoteOptions.Credentials only, never with the credentials stores of Helm or
// Docker on the machine.
func (r *remote) registryClient(ctx context.Context, limit int64) (*registry.Client, *call, error) {
	hc, c := r.client(ctx, limit, false)
	authz := auth.Client{Client: hc, Credential: func(_ context.Context, hostport string) (auth.Credential, error) {
		if cred, ok := r.opts.Credentials[hostport]; ok {
			return auth.Credential{Username: cred.Username, Password: cred.Password}, nil
		}
		return auth.EmptyCredential, nil
	}}
	opts := []registry.ClientOption{
		registry.ClientOptHTTPClient(hc),
		registry.ClientOptAuthorizer(authz),
		// A file that does not exist, in place of Helm's own: the client opens a
		// store there, which stays unused since the authorizer above answers every
		// credential question.
		registry.ClientOptCredentialsFile(r.noCredentials),
	}
	if r.opts.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	client, err := registry.NewClient(opts...)
	return client, c, err
}

// ociName returns ref as a registry reference without scheme
// ("registry.example.com/charts/web").
func ociName(ref render.HelmChart) (string, error) {
	u, err := checkURL(ref.Repository, "oci")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.Host+u.Path, "/") + "/" + ref.Name, nil
}

// resolveOCI picks the version of ref from its registry's tags (unless it is an
// exact version) and resolves that tag to its manifest digest.
func (r *remote) resolveOCI(ctx context.Context, ref render.HelmChart) (resolvedChart, error) {
	name, err := ociName(ref)
	if err != nil {
		return resolvedChart{}, err
	}
	client, c, err := r.registryClient(ctx, r.opts.MaxIndexBytes)
	if err != nil {
		return resolvedChart{}, fmt.Errorf("registry %s: %w", name, err)
	}
	version := ref.Version
	if _, err := semver.StrictNewVersion(version); err != nil {
		tags, err := client.Tags(name)
		if err != nil {
			return resolvedChart{}, c.limitErr("registry "+name, fmt.Errorf("registry %s: tags: %w", name, err))
		}
		if version, err = registry.GetTagMatchingVersionOrConstraint(tags, ref.Version); err != nil {
			return resolvedChart{}, fmt.Errorf("registry %s: %w: no version matches %q", name, ErrChartNotFound, ref.Version)
		}
	}
	// OCI tags cannot hold "+", which Helm writes as "_".
	desc, err := client.Resolve(name + ":" + strings.ReplaceAll(version, "+", "_"))
	if errors.Is(err, errdef.ErrNotFound) {
		return resolvedChart{}, fmt.Errorf("registry %s: %w: no version %s", name, ErrChartNotFound, version)
	} else if err != nil {
		return resolvedChart{}, c.limitErr("registry "+name, fmt.Errorf("registry %s: %s: %w", name, version, err))
	}
	return resolvedChart{
		Version: version,
		URL:     "oci://" + name + "@" + desc.Digest.String(),
		Digest:  desc.Digest.String(),
		oci:     true,
	}, nil
}

// pullOCI pulls the chart archive of rc by digest.
func (r *remote) pullOCI(ctx context.Context, rc resolvedChart) ([]byte, error) {
	client, c, err := r.registryClient(ctx, r.opts.MaxChartBytes)
	if err != nil {
		return nil, err
	}
	res, err := client.Pull(strings.TrimPrefix(rc.URL, "oci://"), registry.PullOptWithChart(true))
	if err != nil {
		return nil, c.limitErr("pull "+rc.URL, fmt.Errorf("pull %s: %w", rc.URL, err))
	}
	if int64(len(res.Chart.Data)) > r.opts.MaxChartBytes {
		return nil, fmt.Errorf("pull %s: %w: archive larger than %d bytes", rc.URL, render.ErrLimit, r.opts.MaxChartBytes)
	}
	return res.Chart.Data, nil
}
