// Package redact removes credentials from messages before they reach errors and
// logs: the user information of URLs, scp-like Git addresses and image references
// found in any text, and secrets known by value, in the encodings in which they
// travel (HTTP basic authentication sends base64 of "user:password"), and the
// values of a Secret object, whatever their type. It is what source/git and update
// wrap their errors with, and apply and diff the errors of a Secret.
package redact

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mask replaces what is hidden.
const Mask = "***"

var (
	// urlUserinfo matches the credentials part of a URL: "scheme://user[:password]@".
	urlUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)([^/\s]*)@`)
	// userPassword matches "user:password@" without a scheme, as scp-like Git
	// addresses ("alice:token@host:app.git") and image references
	// ("user:pass@registry/app:1.0") write it; the password runs to the last "@"
	// before a space or a slash.
	userPassword = regexp.MustCompile(`([^\s/@:]+):([^\s/]+)@`)
	// digest is what follows the "@" of a pinned image reference ("app:1.0@sha256:…"),
	// which is not a password.
	digest = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}`)
)

// URL hides credentials in every URL and address in s: "https://user:token@host"
// becomes "https://***@host", "alice:token@host:app.git" becomes
// "alice:***@host:app.git" and "user:pass@registry/app:1.0" becomes
// "user:***@registry/app:1.0". SSH user names (ssh://git@host, git@host:app.git)
// are kept: they are not secret. A password written in free text is found up to
// a slash; one holding a slash is hidden only when known by value ([Secrets]),
// which [Password] extracts from an address.
func URL(s string) string {
	s = urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlUserinfo.FindStringSubmatch(m)
		scheme, info := sub[1], sub[2]
		if strings.HasPrefix(strings.ToLower(scheme), "ssh") && !strings.Contains(info, ":") {
			return m
		}
		return scheme + Mask + "@"
	})
	var b strings.Builder
	last := 0
	for _, m := range userPassword.FindAllStringSubmatchIndex(s, -1) {
		if digest.MatchString(s[m[1]:]) {
			continue
		}
		b.WriteString(s[last:m[4]])
		b.WriteString(Mask)
		last = m[5]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// Password returns the password an address holds in its user information, or ""
// when it holds none: a URL ("https://user:pass@host/…"), an scp-like Git address
// ("user:pass@host:path") or an image reference ("user:pass@registry/app:1.0",
// "registry/user:pass@app"). For an address that is not a valid URL it is the text
// between the first colon and the last "@" (before a digest): the password, or a
// span holding it.
func Password(addr string) string {
	if u, err := url.Parse(addr); err == nil && u.Scheme != "" && u.User != nil {
		p, _ := u.User.Password()
		return p
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && digest.MatchString(addr[i+1:]) {
		addr = addr[:i]
	}
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	_, pass, _ := strings.Cut(addr[:i], ":")
	return pass
}

// Secrets are strings that must not appear in a message. Strings shorter than
// three bytes are left alone: hiding every "a" would hide nothing.
type Secrets []string

// BasicAuth returns password and the values an HTTP basic Authorization header
// carries it in: base64 of "user:password", padded and unpadded, in the standard
// and the URL alphabet. A server may echo any of them in an error.
func BasicAuth(user, password string) Secrets {
	if password == "" {
		return nil
	}
	pair := []byte(user + ":" + password)
	return Secrets{
		password,
		base64.StdEncoding.EncodeToString(pair),
		base64.RawStdEncoding.EncodeToString(pair),
		base64.URLEncoding.EncodeToString(pair),
		base64.RawURLEncoding.EncodeToString(pair),
	}
}

// Redact returns msg with credentials in URLs and addresses ([URL]) and every
// secret hidden, the longest first, so that one holding another is hidden whole.
func (s Secrets) Redact(msg string) string {
	msg = URL(msg)
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for _, v := range sorted {
		if len(v) >= 3 {
			msg = strings.ReplaceAll(msg, v, Mask)
		}
	}
	return msg
}

// Wrap returns err with a redacted message (nil for nil, err itself when there
// was nothing to hide); errors.Is and errors.As still see the cause, whose own
// message a caller must not print.
func (s Secrets) Wrap(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := s.Redact(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
