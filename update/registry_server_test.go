package update

import (
	"context"
	"crypto/subtle"
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
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// registryAuth is how the loopback registry guards /v2/.
type registryAuth int

const (
	anonymous registryAuth = iota
	basicAuth              // Basic challenge, credentials on every request
	tokenFlow              // Bearer challenge, a token endpoint taking Basic credentials
)

const (
	testUser     = "robot"
	testPassword = "s3cret-pa55word"
	issuedToken  = "issued-token-0123456789"
)

// testRegistry is go-containerregistry's registry on loopback behind an
// authentication layer, with a second, unauthenticated listener (Push) sharing its
// storage for seeding images.
type testRegistry struct {
	Host  string // host:port of the guarded listener
	CAPEM []byte // its CA when served over TLS
	push  string // host:port of the seeding listener
}

func newTestRegistry(t *testing.T, auth registryAuth, tls bool) *testRegistry {
	t.Helper()
	backend := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	seed := httptest.NewServer(backend)
	t.Cleanup(seed.Close)
	var srv *httptest.Server
	guard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			user, pass, ok := r.BasicAuth()
			if !ok || !equal(user, testUser) || !equal(pass, testPassword) {
				http.Error(w, "bad credentials", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"token": issuedToken, "expires_in": 300})
			return
		}
		switch auth {
		case basicAuth:
			user, pass, ok := r.BasicAuth()
			if !ok || !equal(user, testUser) || !equal(pass, testPassword) {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"credentials required"}]}`, http.StatusUnauthorized)
				return
			}
		case tokenFlow:
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !equal(tok, issuedToken) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="test"`, srv.URL+"/token"))
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		backend.ServeHTTP(w, r)
	})
	srv = httptest.NewUnstartedServer(guard)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	r := &testRegistry{push: strings.TrimPrefix(seed.URL, "http://")}
	if tls {
		srv.StartTLS()
		r.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https://"), "http://")
	return r
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Push writes a random image under each tag of repo and returns the images by tag.
func (r *testRegistry) Push(t *testing.T, repo string, tags ...string) map[string]v1.Image {
	t.Helper()
	images := map[string]v1.Image{}
	for _, tag := range tags {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.NewTag(r.push + "/" + repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, remote.WithContext(context.Background())); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
		images[tag] = img
	}
	return images
}
