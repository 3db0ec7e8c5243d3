package updatetest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAuth checks what the API listener asks of a raw HTTP client in each mode.
func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		challenge string // the WWW-Authenticate scheme of a bare request; "" when it is served
	}{
		{name: "anonymous", opts: Options{}},
		{name: "basic", opts: Options{Auth: Basic}, challenge: "Basic "},
		{name: "token flow over tls", opts: Options{Auth: TokenFlow, TLS: true}, challenge: "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry(t, tc.opts)
			if tc.opts.TLS != (reg.CAPEM != nil) {
				t.Fatalf("TLS %v, CA %q", tc.opts.TLS, reg.CAPEM)
			}
			scheme := "http://"
			if tc.opts.TLS {
				scheme = "https://"
			}
			digests := reg.Push(t, "team/app", "1.0.0")
			if !strings.HasPrefix(digests["1.0.0"], "sha256:") {
				t.Fatalf("digests %v", digests)
			}
			get := func(path, authorization string) *http.Response {
				t.Helper()
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, scheme+reg.Host+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if authorization != "" {
					req.Header.Set("Authorization", authorization)
				}
				resp, err := reg.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = resp.Body.Close() })
				return resp
			}
			const manifest = "/v2/team/app/manifests/1.0.0"
			bare := get(manifest, "")
			if tc.challenge == "" {
				if bare.StatusCode != http.StatusOK || bare.Header.Get("Docker-Content-Digest") != digests["1.0.0"] {
					t.Fatalf("anonymous GET: %s, digest %q", bare.Status, bare.Header.Get("Docker-Content-Digest"))
				}
				return
			}
			if bare.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(bare.Header.Get("WWW-Authenticate"), tc.challenge) {
				t.Fatalf("GET without credentials: %s, challenge %q", bare.Status, bare.Header.Get("WWW-Authenticate"))
			}
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(reg.Username+":"+reg.Password))
			wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte(reg.Username+":wrong"))
			if got := get(manifest, wrong).StatusCode; got != http.StatusUnauthorized {
				t.Fatalf("GET with a wrong password: %d", got)
			}
			authorization := basic
			if tc.opts.Auth == TokenFlow {
				if got := get("/token", wrong).StatusCode; got != http.StatusUnauthorized {
					t.Fatalf("token for a wrong password: %d", got)
				}
				var body struct{ Token string }
				if err := json.NewDecoder(get("/token", basic).Body).Decode(&body); err != nil || body.Token != reg.Token {
					t.Fatalf("token endpoint: %+v, %v", body, err)
				}
				authorization = "Bearer " + body.Token
			}
			if ok := get(manifest, authorization); ok.StatusCode != http.StatusOK || ok.Header.Get("Docker-Content-Digest") != digests["1.0.0"] {
				t.Fatalf("GET with credentials: %s, digest %q", ok.Status, ok.Header.Get("Docker-Content-Digest"))
			}
		})
	}
}
