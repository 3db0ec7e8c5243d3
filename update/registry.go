package update

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitopskit/gitopskit/internal/redact"
)

// RegistryAuth holds registry credentials. Secrets in it never appear in errors or
// logs. With Username and Password the registry's token flow is followed: a
// registry that answers 401 with a Bearer challenge is asked for a token with those
// credentials, one that asks for Basic gets them directly.
type RegistryAuth struct {
	Username, Password string
	// BearerToken is a registry token sent as "Authorization: Bearer <token>"
	// without the token flow, for registries whose tokens are issued elsewhere.
	BearerToken string
}

func (a RegistryAuth) authenticator() authn.Authenticator {
	switch {
	case a.BearerToken != "":
		return authn.FromConfig(authn.AuthConfig{RegistryToken: a.BearerToken})
	case a.Username != "" || a.Password != "":
		return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password})
	}
	return authn.Anonymous
}

// secrets are what errors must not show: the password in every form basic
// authentication sends it (a registry may echo the header), and the token.
func (a RegistryAuth) secrets() redact.Secrets {
	return append(redact.BasicAuth(a.Username, a.Password), a.BearerToken)
}

// Registry reads tags and digests from container registries through
// go-containerregistry. The zero value reads public registries anonymously over
// HTTPS (loopback and private-network hosts may also be reached over plain HTTP,
// go-containerregistry's convention). A Registry is safe for concurrent use.
type Registry struct {
	// Auth is sent to every registry this value talks to; use one Registry per
	// set of credentials.
	Auth RegistryAuth
	// CABundle is PEM certificates trusted in addition to the system pool.
	CABundle []byte
	// Insecure allows plain HTTP to any host.
	Insecure bool
	// Timeout bounds each operation (Tags, Digest) on top of the caller's context;
	// 0 means one minute.
	Timeout time.Duration
	// Logger receives each listing at V(1); unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Tags lists the tags of an image repository ("ghcr.io/org/app"), following the
// registry's pagination. Errors name the repository and never hold credentials.
func (r *Registry) Tags(ctx context.Context, repository string) ([]string, error) {
	repo, err := r.repository(repository)
	if err != nil {
		return nil, err
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	opts, err := r.options(ctx)
	if err != nil {
		return nil, r.fail("list tags of", repository, err)
	}
	tags, err := remote.List(repo, opts...)
	if err != nil {
		return nil, r.fail("list tags of", repository, err)
	}
	r.logger().V(1).Info("listed tags", "repository", repo.Name(), "tags", len(tags))
	return tags, nil
}

// Digest returns the manifest digest ("sha256:…") a tag of repository points to,
// with a HEAD request, falling back to GET for registries that do not answer HEAD
// with a digest. For a multi-platform image it is the index's digest.
func (r *Registry) Digest(ctx context.Context, repository, tag string) (string, error) {
	repo, err := r.repository(repository)
	if err != nil {
		return "", err
	}
	ref := repo.Tag(tag)
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	opts, err := r.options(ctx)
	if err != nil {
		return "", r.fail("resolve", ref.String(), err)
	}
	desc, err := remote.Head(ref, opts...)
	if err == nil && desc.Digest.Hex != "" {
		return desc.Digest.String(), nil
	}
	full, err := remote.Get(ref, opts...)
	if err != nil {
		return "", r.fail("resolve", ref.String(), err)
	}
	return full.Digest.String(), nil
}

func (r *Registry) repository(s string) (name.Repository, error) {
	if err := refuseCredentials(s); err != nil {
		return name.Repository{}, fmt.Errorf("image repository %w", err)
	}
	var opts []name.Option
	if r.Insecure {
		opts = append(opts, name.Insecure)
	}
	repo, err := name.NewRepository(s, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("image repository %q: %w", s, err)
	}
	return repo, nil
}

func (r *Registry) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	d := r.Timeout
	if d == 0 {
		d = time.Minute
	}
	return context.WithTimeout(ctx, d)
}

func (r *Registry) logger() logr.Logger {
	if r.Logger.GetSink() == nil {
		return logr.Discard()
	}
	return r.Logger
}

func (r *Registry) options(ctx context.Context) ([]remote.Option, error) {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(r.Auth.authenticator())}
	if len(r.CABundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(r.CABundle) {
			return nil, errors.New("CA bundle holds no PEM certificate")
		}
		t := remote.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts = append(opts, remote.WithTransport(t))
	}
	return opts, nil
}

func (r *Registry) fail(op, what string, err error) error {
	return r.Auth.secrets().Wrap(fmt.Errorf("registry: %s %s: %w", op, what, err))
}
