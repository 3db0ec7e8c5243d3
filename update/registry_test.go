package update

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/update/updatetest"
)

func TestRegistryTags(t *testing.T) {
	ctx := context.Background()
	tags := []string{"1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "latest"}
	for _, tc := range []struct {
		name string
		opts updatetest.Options
		// auth and bad are the credentials the registry takes and refuses.
		auth, bad func(reg *updatetest.Registry) RegistryAuth
	}{
		{name: "anonymous", auth: anonymousAuth},
		{name: "basic", opts: updatetest.Options{Auth: updatetest.Basic}, auth: passwordAuth, bad: wrongPassword},
		{name: "token flow", opts: updatetest.Options{Auth: updatetest.TokenFlow}, auth: passwordAuth, bad: wrongPassword},
		{name: "bearer token", opts: updatetest.Options{Auth: updatetest.TokenFlow}, auth: tokenAuth, bad: forgedToken},
		{name: "tls with a custom CA", opts: updatetest.Options{Auth: updatetest.Basic, TLS: true}, auth: passwordAuth, bad: anonymousAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := updatetest.NewRegistry(t, tc.opts)
			digests := reg.Push(t, "team/app", tags...)
			r := &Registry{Auth: tc.auth(reg), CABundle: reg.CAPEM, Timeout: 20 * time.Second}
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
			if want := digests["1.10.0"]; digest != want {
				t.Fatalf("digest = %s, want %s", digest, want)
			}
			if tc.opts.Auth == updatetest.Anonymous {
				return
			}
			// Without credentials, or with wrong ones, the listing fails and the
			// error does not carry the secret.
			for _, auth := range []RegistryAuth{{}, tc.bad(reg)} {
				r := &Registry{Auth: auth, CABundle: reg.CAPEM, Timeout: 20 * time.Second}
				_, err := r.Tags(ctx, reg.Host+"/team/app")
				if err == nil {
					t.Fatalf("listing with %+v succeeded", auth.Username)
				}
				for _, secret := range []string{reg.Password, reg.Token, "wrong-password", "forged-token"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error leaks a secret: %v", err)
					}
				}
				if !strings.Contains(err.Error(), reg.Host+"/team/app") {
					t.Fatalf("error does not name the repository: %v", err)
				}
			}
			if tc.opts.TLS {
				// The registry's certificate is not trusted without the CA.
				if _, err := (&Registry{Auth: tc.auth(reg), Timeout: 20 * time.Second}).Tags(ctx, reg.Host+"/team/app"); err == nil {
					t.Fatal("listing over TLS without the CA succeeded")
				}
			}
		})
	}
}

func anonymousAuth(*updatetest.Registry) RegistryAuth { return RegistryAuth{} }

func passwordAuth(reg *updatetest.Registry) RegistryAuth {
	return RegistryAuth{Username: reg.Username, Password: reg.Password}
}

func wrongPassword(reg *updatetest.Registry) RegistryAuth {
	return RegistryAuth{Username: reg.Username, Password: "wrong-password"}
}

func tokenAuth(reg *updatetest.Registry) RegistryAuth { return RegistryAuth{BearerToken: reg.Token} }

func forgedToken(*updatetest.Registry) RegistryAuth { return RegistryAuth{BearerToken: "forged-token"} }

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

// TestErrorsHideCredentials: no error shows a credential, whether it sits in an
// image string (in every form a repository or policy image can take) or a
// registry echoes the basic-auth value it was sent (unpadded base64).
func TestErrorsHideCredentials(t *testing.T) {
	ctx := context.Background()
	reg := updatetest.NewRegistry(t, updatetest.Options{Auth: updatetest.Basic, EchoCredentials: true})
	reg.Push(t, "team/app", "1.0.0")
	const wrong = "wrong-password" // "robot:wrong-password" is 20 bytes: its padded base64 ends in "="
	r := &Registry{Auth: RegistryAuth{Username: reg.Username, Password: wrong}, Timeout: 20 * time.Second}
	_, err := r.Tags(ctx, reg.Host+"/team/app")
	echoed := base64.RawStdEncoding.EncodeToString([]byte(reg.Username + ":" + wrong))
	if err == nil || !strings.Contains(errors.Unwrap(err).Error(), echoed) {
		t.Fatalf("the registry did not echo the credentials: %v", err)
	}
	if strings.Contains(err.Error(), echoed) || strings.Contains(err.Error(), wrong) {
		t.Errorf("error shows the credentials: %v", err)
	}

	const secret = "s3cret-in-image"
	digest := "@sha256:" + strings.Repeat("ab", 32)
	// A value the setter cannot edit in place is quoted in its error.
	yaml := "image: robot:" + secret + "@registry.example.com/team/app:1.0\n  more # {\"$imagepolicy\": \"apps:app\"}\n"
	if _, _, err := (&Setter{Images: testImages}).Set("deploy.yaml", []byte(yaml)); err == nil || !errors.Is(err, ErrSet) || strings.Contains(err.Error(), secret) {
		t.Errorf("setter: %v", err)
	}
	for _, image := range []string{
		"robot:" + secret + "@" + reg.Host + "/team/app",
		"robot:" + secret + "@registry.example/app:1.0",
		"robot:" + secret + "@registry.example/app:1.0" + digest,
		"https://robot:" + secret + "@registry.example/app",
		"registry.example/robot:" + secret + "@app",
		"robot:" + secret + "/with+slash@registry.example/app",
	} {
		p := Policy{Name: "app", Image: image, SemVer: &SemVer{Range: ">=1.0.0"}}
		_, choose := Choose(ctx, &Registry{Timeout: 5 * time.Second}, []Policy{p})
		_, tags := (&Registry{Timeout: 5 * time.Second}).Tags(ctx, image)
		_, dig := (&Registry{Timeout: 5 * time.Second}).Digest(ctx, image, "1.0")
		for _, err := range []error{p.Validate(), choose, tags, dig} {
			if err == nil {
				t.Errorf("%s: no error", image)
			} else if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		}
	}
}
