package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// maxHookBody bounds the body of a webhook request the agent reads to check its
// signature.
const maxHookBody = 10 << 20

// hookSecret reads the webhook secret from file, without its final line break.
func hookSecret(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secret-file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return nil, fmt.Errorf("--webhook-secret-file %s is empty", file)
	}
	return []byte(s), nil
}

// authorized reports whether r proves it knows secret, the way Git forges sign
// their webhooks: GitHub's (and Gitea's) X-Hub-Signature-256, an HMAC-SHA256 of the
// body, or GitLab's X-Gitlab-Token, the secret itself. With no secret, every
// request is authorized.
func authorized(w http.ResponseWriter, r *http.Request, secret []byte) bool {
	if len(secret) == 0 {
		return true
	}
	if token := r.Header.Get("X-Gitlab-Token"); token != "" {
		return hmac.Equal([]byte(token), secret)
	}
	sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	if !ok {
		return false
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}
