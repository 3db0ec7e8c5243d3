package update

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegistryTags(t *testing.T) {
	ctx := context.Background()
	tags := []string{"1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "latest"}
	for _, tc := range []struct {
		name string
		mode registryAuth
		tls  bool
		auth RegistryAuth
		bad  RegistryAuth // credentials the registry refuses
	}{
		{name: "anonymous"},
		{name: "basic", mode: basicAuth, auth: RegistryAuth{Username: testUser, Password: testPassword}, bad: RegistryAuth{Username: testUser, Password: "wrong-password"}},
		{name: "token flow", mode: tokenFlow, auth: RegistryAuth{Username: testUser, Password: testPassword}, bad: RegistryAuth{Username: testUser, Password: "wrong-password"}},
		{name: "bearer token", mode: tokenFlow, auth: RegistryAuth{BearerToken: issuedToken}, bad: RegistryAuth{BearerToken: "forged-token"}},
		{name: "tls with a custom CA", mode: basicAuth, tls: true, auth: RegistryAuth{Username: testUser, Password: testPassword}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newTestRegistry(t, tc.mode, tc.tls)
			images := reg.Push(t, "team/app", tags...)
			r := &Registry{Auth: tc.auth, CABundle: reg.CAPEM, Timeout: 20 * time.Second}
			got, err := r.Tags(ctx, reg.Host+"/team/app")
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tags))
			if !slices.Equal(got, want) {
				t.Fatalf("tags = %v, want %v", got, want)
			}
			latest, err := Policy{Name: "app", Image: reg.Host + "/team/app", SemVer: &SemVer{Range: ">=1.0.0"}}.Latest(got)
			if err != nil || latest != "1.10.0" {
				t.Fatalf("policy chose %q, %v", latest, err)
			}
			digest, err := r.Digest(ctx, reg.Host+"/team/app", "1.10.0")
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := images["1.10.0"].Digest(); digest != want.String() {
				t.Fatalf("digest = %s, want %s", digest, want)
			}
			if tc.mode == anonymous {
				return
			}
			// Without credentials, or with wrong ones, the listing fails and the
			// error does not carry the secret.
			for _, auth := range []RegistryAuth{{}, tc.bad} {
				r := &Registry{Auth: auth, CABundle: reg.CAPEM, Timeout: 20 * time.Second}
				_, err := r.Tags(ctx, reg.Host+"/team/app")
				if err == nil {
					t.Fatalf("listing with %+v succeeded", auth.Username)
				}
				for _, secret := range []string{testPassword, issuedToken, "wrong-password", "forged-token"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error leaks a secret: %v", err)
					}
				}
				if !strings.Contains(err.Error(), reg.Host+"/team/app") {
					t.Fatalf("error does not name the repository: %v", err)
				}
			}
			if tc.tls {
				// The registry's certificate is not trusted without the CA.
				if _, err := (&Registry{Auth: tc.auth, Timeout: 20 * time.Second}).Tags(ctx, reg.Host+"/team/app"); err == nil {
					t.Fatal("listing over TLS without the CA succeeded")
				}
			}
		})
	}
}

func TestRegistryTimeout(t *testing.T) {
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer stuck.Close()
	defer stuck.CloseClientConnections()
	host := strings.TrimPrefix(stuck.URL, "http://")
	start := time.Now()
	_, err := (&Registry{Timeout: 300 * time.Millisecond}).Tags(context.Background(), host+"/team/app")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Tags on a stuck registry = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("the timeout did not bound the call: %v", d)
	}
}

func TestRegistryBadInput(t *testing.T) {
	r := &Registry{}
	if _, err := r.Tags(context.Background(), "Not A Repo"); err == nil {
		t.Fatal("bad repository accepted")
	}
	if _, err := (&Registry{CABundle: []byte("not pem")}).Tags(context.Background(), "127.0.0.1:1/app"); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("bad CA bundle: %v", err)
	}
}
