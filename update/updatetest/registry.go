package updatetest

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Auth is how the registry guards its API (/v2/).
type Auth int

const (
	// Anonymous asks for nothing.
	Anonymous Auth = iota
	// Basic answers a request without [Registry.Username] and [Registry.Password]
	// in HTTP Basic form with 401 and a Basic challenge.
	Basic
	// TokenFlow answers a request without "Authorization: Bearer [Registry.Token]"
	// with 401 and a Bearer challenge naming the registry's token endpoint, which
	// issues the token for HTTP Basic [Registry.Username] and [Registry.Password].
	// A client holding the token already can send it without the exchange.
	TokenFlow
)

// The credentials every registry accepts; see the fields of [Registry].
const (
	username = "robot"
	password = "s3cret-pa55word"
	token    = "issued-token-0123456789"
)

// Options configures a registry. The zero value is an anonymous registry over
// plain HTTP.
type Options struct {
	// Auth is what the registry asks of clients.
	Auth Auth
	// TLS serves HTTPS with a self-signed certificate; see [Registry.CAPEM].
	TLS bool
	// EchoCredentials makes each refusal repeat the HTTP Basic credentials the
	// request carried, as unpadded base64 in the error message, the way some
	// proxies and misconfigured registries do: for tests that a client's errors
	// never show them.
	EchoCredentials bool
}

// Registry is an in-memory image registry on loopback. Its API listener applies
// [Options.Auth]; a second, unauthenticated listener sharing its storage is where
// [Registry.Push] and [Registry.Write] seed images.
type Registry struct {
	// Host is the "host:port" of the API listener: an image repository on it is
	// Host + "/" + a path such as "team/app".
	Host string
	// CAPEM is the PEM certificate to trust when [Options.TLS] is on; nil otherwise.
	CAPEM []byte
	// Username and Password are the credentials [Basic] and the token endpoint of
	// [TokenFlow] accept.
	Username, Password string
	// Token is the bearer token the token endpoint issues and [TokenFlow] accepts.
	Token string

	api, seed *httptest.Server
}

// NewRegistry starts a registry that stops at the end of the test.
func NewRegistry(t testing.TB, opts Options) *Registry {
	t.Helper()
	r := Start(opts)
	t.Cleanup(r.Close)
	return r
}

// Start starts a registry; the caller stops it with [Registry.Close]. Like
// net/http/httptest, it panics when it cannot listen on loopback.
func Start(opts Options) *Registry {
	quiet := log.New(io.Discard, "", 0)
	backend := registry.New(registry.Logger(quiet))
	r := &Registry{Username: username, Password: password, Token: token}
	r.seed = httptest.NewServer(backend)
	r.api = httptest.NewUnstartedServer(r.guard(opts, backend))
	r.api.Config.ErrorLog = quiet
	if opts.TLS {
		r.api.StartTLS()
		r.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.api.Certificate().Raw})
	} else {
		r.api.Start()
	}
	r.Host = strings.TrimPrefix(strings.TrimPrefix(r.api.URL, "https://"), "http://")
	return r
}

// Close stops both listeners.
func (r *Registry) Close() {
	r.api.Close()
	r.seed.Close()
}

// Client returns an HTTP client for the API listener that trusts its certificate
// when [Options.TLS] is on. It sends no credentials of its own.
func (r *Registry) Client() *http.Client { return r.api.Client() }

// Push writes a random image under each tag of repo ("team/app") and returns the
// images' digests ("sha256:…") by tag. A failed push fails the test.
func (r *Registry) Push(t testing.TB, repo string, tags ...string) map[string]string {
	t.Helper()
	digests, err := r.Write(t.Context(), repo, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return digests
}

// Write is [Registry.Push] for callers without a testing.TB: it returns the first
// error instead of failing a test.
func (r *Registry) Write(ctx context.Context, repo string, tags ...string) (map[string]string, error) {
	seed := strings.TrimPrefix(r.seed.URL, "http://")
	digests := map[string]string{}
	for _, tag := range tags {
		img, err := random.Image(256, 1)
		if err != nil {
			return nil, err
		}
		ref, err := name.NewTag(seed + "/" + repo + ":" + tag)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("push %s:%s: %w", repo, tag, err)
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		digests[tag] = d.String()
	}
	return digests, nil
}

// guard is the API listener's handler: the token endpoint at /token, and backend
// behind what opts.Auth asks for.
func (r *Registry) guard(opts Options, backend http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		refuse := func(message string) {
			if _, basic, ok := strings.Cut(req.Header.Get("Authorization"), "Basic "); ok && opts.EchoCredentials {
				if raw, err := base64.StdEncoding.DecodeString(basic); err == nil {
					message += " (got " + base64.RawStdEncoding.EncodeToString(raw) + ")"
				}
			}
			body, _ := json.Marshal(map[string]any{"errors": []any{map[string]string{"code": "UNAUTHORIZED", "message": message}}})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(body)
		}
		if req.URL.Path == "/token" {
			if !r.basicOK(req) {
				refuse("bad credentials")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"token": r.Token, "expires_in": 300})
			return
		}
		switch opts.Auth {
		case Basic:
			if !r.basicOK(req) {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				refuse("credentials required")
				return
			}
		case TokenFlow:
			tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
			if !ok || !equal(tok, r.Token) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="test"`, r.api.URL+"/token"))
				refuse("token required")
				return
			}
		}
		backend.ServeHTTP(w, req)
	})
}

func (r *Registry) basicOK(req *http.Request) bool {
	user, pass, ok := req.BasicAuth()
	return ok && equal(user, r.Username) && equal(pass, r.Password)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
