package redact

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@host/r.git":                            "https://***@host/r.git",
		"https://tok@host/r.git":                                 "https://***@host/r.git",
		"ssh://git@host/r.git":                                   "ssh://git@host/r.git",
		"ssh://git:pw@host/r.git":                                "ssh://***@host/r.git",
		`Get "http://u:p@ss@h:1/x": refused`:                     `Get "http://***@h:1/x": refused`,
		"no url here":                                            "no url here",
		"two https://a:b@x and http://c@y":                       "two https://***@x and http://***@y",
		"git@github.com:org/repo.git (scp-like, no secret)":      "git@github.com:org/repo.git (scp-like, no secret)",
		"fetch alice:TOKEN@host:app.git: refused":                "fetch alice:***@host:app.git: refused",
		"alice:p@ss@host:app.git":                                "alice:***@host:app.git",
		`image "user:pass@registry.example/app:1.0"`:             `image "user:***@registry.example/app:1.0"`,
		"registry.example/user:pass@app":                         "registry.example/user:***@app",
		"nginx:1.27@sha256:" + strings.Repeat("ab", 32):          "nginx:1.27@sha256:" + strings.Repeat("ab", 32),
		"u:p@registry/app:1.0@sha256:" + strings.Repeat("0", 64): "u:***@registry/app:1.0@sha256:" + strings.Repeat("0", 64),
		"Test Author <author@example.com>":                       "Test Author <author@example.com>",
		"dial tcp 127.0.0.1:22: connection refused":              "dial tcp 127.0.0.1:22: connection refused",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPassword(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@host/r.git":                 "tok",
		"https://host/@scope/pkg":                     "",
		"alice:TOKEN@host:app.git":                    "TOKEN",
		"alice:ab/cd+ef==@host:app.git":               "ab/cd+ef==",
		"git@host:app.git":                            "",
		"user:pass@registry.example/app:1.0":          "pass",
		"user:pass@registry/app@sha256:" + hex64:      "pass",
		"registry.example/app:1.0@sha256:" + hex64:    "",
		"registry.example/robot:s3cret@app":           "s3cret",
		"registry.example:5000/robot:s3cret@app":      "5000/robot:s3cret",
		"registry.example:5000/team/app":              "",
		"https://robot:s3cret@registry.example/app":   "s3cret",
		"https://u:with/slash@registry.example/app:1": "with/slash",
	} {
		if got := Password(in); got != want {
			t.Errorf("Password(%q) = %q, want %q", in, got, want)
		}
	}
}

var hex64 = strings.Repeat("ab", 32)

func TestSecrets(t *testing.T) {
	s := append(BasicAuth("robot", "wrong-password"), "tok")
	echoed := base64.RawStdEncoding.EncodeToString([]byte("robot:wrong-password"))
	msg := "401: wrong-password, got " + echoed + " and Basic " + echoed + "= for tok, https://u:p@h"
	got := s.Redact(msg)
	if want := "401: ***, got *** and Basic *** for ***, https://***@h"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	cause := errors.New("token t0k3n refused")
	err := Secrets{"t0k3n"}.Wrap(cause)
	if err.Error() != "token *** refused" || !errors.Is(err, cause) {
		t.Errorf("Wrap = %v (Is: %v)", err, errors.Is(err, cause))
	}
	if (Secrets{"tok"}).Wrap(nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
}

// FuzzRedact embeds a secret in a message in each form it travels in (a URL's,
// an scp-like address's or an image reference's user information, known by value,
// or the basic-auth value of a user and it) and checks that what Redact leaves
// never holds it. The mask cannot be told from a secret made of asterisks, and
// text outside the address is not searched for a secret unknown by value, so
// those are left out (as are messages where the text around the address spells
// the secret again).
func FuzzRedact(f *testing.F) {
	f.Add("error: ", "alice", "TOKEN", ": refused", uint8(0))
	f.Add("image ", "robot", "p@ss:w0rd", " not found", uint8(2))
	f.Add("", "u", "ab/cd+ef==", "", uint8(5))
	f.Add("got ", "robot", "wrong-password", "", uint8(4))
	f.Add("err: ", "#", "0000", "0", uint8(0)) // once found by source/git's URL fuzzing
	f.Add("err: ", "\r", "0000", "0", uint8(0))
	f.Fuzz(func(t *testing.T, prefix, user, secret, suffix string, form uint8) {
		if len(secret) < 3 || strings.Contains(secret, "*") || strings.ContainsAny(user, "@/:*") ||
			strings.Contains(prefix, secret) || strings.Contains(suffix, secret) || strings.Contains(user, secret) {
			return
		}
		inText := !strings.Contains(secret, "/") && !strings.ContainsFunc(secret+user, isSpace) && user != ""
		var addr string
		switch form % 3 {
		case 0:
			addr = "https://" + user + ":" + secret + "@host.example/app.git"
		case 1:
			addr = user + ":" + secret + "@host.example:app.git"
		case 2:
			addr = user + ":" + secret + "@registry.example/app:1.0"
		}
		var msg, out string
		switch form % 6 {
		case 0, 1, 2: // found in the text
			if !inText {
				return
			}
			msg = prefix + addr + suffix
			out = URL(msg)
		case 3: // known by value
			msg = prefix + secret + suffix
			out = Secrets{secret}.Redact(msg)
		case 4: // echoed as a basic-auth value
			pair := []byte(user + ":" + secret)
			msg = prefix + base64.RawStdEncoding.EncodeToString(pair) + " " + base64.URLEncoding.EncodeToString(pair) + suffix
			out = BasicAuth(user, secret).Redact(msg)
			for _, enc := range []string{base64.RawStdEncoding.EncodeToString(pair), base64.RawURLEncoding.EncodeToString(pair)} {
				if len(enc) >= 3 && !strings.Contains(prefix+suffix, enc) && strings.Contains(out, enc) {
					t.Fatalf("Redact(%q) = %q keeps %q", msg, out, enc)
				}
			}
		case 5: // taken from the address it sits in
			if user == "" || strings.ContainsFunc(secret+user, isSpace) || strings.HasPrefix(secret, "/") { // "user://…" reads as a URL
				return
			}
			msg = prefix + addr + suffix
			out = Secrets{Password(addr)}.Redact(msg)
		}
		if strings.Count(msg, secret) == 1 && strings.Contains(out, secret) {
			t.Fatalf("redacting %q gives %q, which holds %q", msg, out, secret)
		}
	})
}

func isSpace(r rune) bool { return strings.ContainsRune(" \t\n\v\f\r\u0085\u00a0", r) }
