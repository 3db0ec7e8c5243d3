package git

import (
	"regexp"
	"strings"
)

// userinfo matches the credentials part of a URL: "scheme://user[:password]@".
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)([^/\s]*)@`)

// RedactURL hides credentials in every URL in s: "https://user:token@host" becomes
// "https://***@host". SSH user names (ssh://git@host) are kept; they are not secret.
func RedactURL(s string) string {
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		scheme, info := sub[1], sub[2]
		if strings.HasPrefix(strings.ToLower(scheme), "ssh") && !strings.Contains(info, ":") {
			return m
		}
		return scheme + "***@"
	})
}

// redactor removes URL credentials and known secrets from messages.
type redactor []string

func (r redactor) redact(s string) string {
	s = RedactURL(s)
	for _, secret := range r {
		if len(secret) >= 3 {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// redactedError carries a redacted message and keeps the cause for errors.Is and
// errors.As on sentinels and types.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: r.redact(err.Error()), err: err}
}
