package helm

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitopskit/gitopskit/render"
)

// Defaults of [RemoteOptions].
const (
	DefaultRemoteTimeout = time.Minute
	DefaultMaxChartBytes = 32 << 20 // a chart archive, compressed
	DefaultMaxIndexBytes = 64 << 20 // a repository's index.yaml
)

// RemoteOptions let a [Renderer] fetch charts from HTTP chart repositories and OCI
// registries: a chart named by render.HelmOptions.Chart, and the dependencies of a
// chart that are neither in its charts/ directory nor in the artifact (file://).
// Without them a [Renderer] reaches no network and such renders fail with
// render.ErrRemote.
type RemoteOptions struct {
	// CacheDir keeps downloaded chart archives, named by a hash of their URL,
	// version and digest, so that a chart is downloaded once. It is created when
	// missing. Empty keeps nothing.
	CacheDir string
	// Credentials are the basic-auth credentials of repositories and registries by
	// host ("charts.example.com", "registry.example.com:5000"). They are sent to
	// that host only, and never appear in errors or logs.
	Credentials map[string]Credentials
	// CABundle holds PEM certificates trusted for HTTPS besides the system's.
	CABundle []byte
	// PlainHTTP speaks plain HTTP to OCI registries, for a registry on loopback or
	// a private network. HTTP chart repositories use the scheme of their URL.
	PlainHTTP bool
	// Timeout bounds each request, headers and body (default
	// [DefaultRemoteTimeout]).
	Timeout time.Duration
	// MaxChartBytes bounds a downloaded chart archive (default
	// [DefaultMaxChartBytes]); a larger one fails with render.ErrLimit. The
	// unpacked chart is bounded by render.Limits.MaxBytes.
	MaxChartBytes int64
	// MaxIndexBytes bounds a repository's index.yaml (default
	// [DefaultMaxIndexBytes]).
	MaxIndexBytes int64
	// IndexTTL is how long a resolved reference (a version constraint checked
	// against a repository index or a registry's tags) is reused before the server
	// is asked again. Zero asks on every render, so a new upstream version is seen
	// at once; a longer TTL saves a request per render (and lets a cached render
	// make none).
	IndexTTL time.Duration
}

// Credentials are a user name and password for basic auth.
type Credentials struct {
	Username string
	Password string
}

// String returns the user name and hides the password, so that printing
// Credentials does not leak it.
func (c Credentials) String() string { return c.Username + ":<redacted>" }

// GoString is String, for %#v.
func (c Credentials) GoString() string { return c.String() }

// remote fetches charts. It is shared by the renders of one [Renderer].
type remote struct {
	opts      RemoteOptions
	transport *http.Transport
	// noCredentials is a path where no file is, for the registry client.
	noCredentials string

	mu       sync.Mutex
	resolved map[string]resolvedEntry // by repository, name and version asked for
}

type resolvedEntry struct {
	ref resolvedChart
	at  time.Time
}

func newRemote(opts RemoteOptions) (*remote, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRemoteTimeout
	}
	if opts.MaxChartBytes <= 0 {
		opts.MaxChartBytes = DefaultMaxChartBytes
	}
	if opts.MaxIndexBytes <= 0 {
		opts.MaxIndexBytes = DefaultMaxIndexBytes
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	if len(opts.CABundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(opts.CABundle) {
			return nil, errors.New("helm remote options: CABundle holds no PEM certificate")
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &remote{
		opts:          opts,
		transport:     t,
		noCredentials: filepath.Join(os.TempDir(), "gitopskit-no-credentials-"+rand.Text(), "config.json"),
		resolved:      map[string]resolvedEntry{},
	}, nil
}

// call is the HTTP client of one fetch: it carries the caller's context, bounds
// each response body, and (for chart repositories) adds the credentials of the
// request's host.
type call struct {
	ctx      context.Context
	base     http.RoundTripper
	limit    int64
	basic    map[string]Credentials // nil for registries, which authenticate through ORAS
	exceeded atomic.Bool
}

func (r *remote) client(ctx context.Context, limit int64, basicAuth bool) (*http.Client, *call) {
	c := &call{ctx: ctx, base: r.transport, limit: limit}
	if basicAuth {
		c.basic = r.opts.Credentials
	}
	return &http.Client{Transport: c, Timeout: r.opts.Timeout}, c
}

func (c *call) RoundTrip(req *http.Request) (*http.Response, error) {
	// The registry client makes its requests with context.Background: the caller's
	// context is joined here, until the response body is closed.
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(c.ctx, func() { cancel(context.Cause(c.ctx)) })
	release := func() { stop(); cancel(nil) }
	req = req.Clone(ctx)
	req.Header.Set("User-Agent", "gitopskit")
	if cred, ok := c.basic[req.URL.Host]; ok && req.Header.Get("Authorization") == "" {
		req.SetBasicAuth(cred.Username, cred.Password)
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	if resp.ContentLength > c.limit {
		resp.Body.Close()
		release()
		c.exceeded.Store(true)
		return nil, errTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: c.limit, call: c, release: release}
	return resp, nil
}

// limitErr returns an error wrapping render.ErrLimit when a response was larger
// than the limit, else err.
func (c *call) limitErr(what string, err error) error {
	if c.exceeded.Load() {
		return fmt.Errorf("%s: %w: larger than %d bytes", what, render.ErrLimit, c.limit)
	}
	return err
}

var errTooLarge = errors.New("response too large")

type limitedBody struct {
	rc      io.ReadCloser
	left    int64
	call    *call
	release func()
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if b.left -= int64(n); b.left < 0 {
		b.call.exceeded.Store(true)
		return 0, errTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.rc.Close()
	b.release()
	return err
}

// get fetches u with the credentials of its host and at most limit bytes.
func (r *remote) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	client, c := r.client(ctx, limit, true)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, c.limitErr("GET "+redact(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", redact(u), resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.limitErr("GET "+redact(u), fmt.Errorf("GET %s: %w", redact(u), err))
	}
	return data, nil
}

// checkURL refuses URLs that carry credentials (they belong in
// RemoteOptions.Credentials, where they stay out of errors) or an unknown scheme.
func checkURL(raw string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("repository URL %q: invalid", redactString(raw))
	}
	if u.User != nil {
		return nil, fmt.Errorf("repository URL %s: credentials in the URL are not allowed, use RemoteOptions.Credentials", redact(raw))
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return u, nil
		}
	}
	return nil, fmt.Errorf("repository URL %s: scheme %q is not one of %s", redact(raw), u.Scheme, strings.Join(schemes, ", "))
}

// redact returns u without its user info.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return redactString(u)
	}
	p.User = nil
	return p.String()
}

// redactString drops what looks like user info from a string that is not a URL.
func redactString(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "<redacted>" + s[i:]
		}
	}
	return s
}
