package diff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// masker replaces Secret values with placeholders. A placeholder carries a short
// HMAC-SHA256 of the value under a key that is random per masker (per Plan) and
// never shown: equal values get equal placeholders and different values different
// ones, so a reader sees which values changed, yet a placeholder cannot be checked
// against guesses, even for a short password, without the key.
type masker struct {
	key []byte
}

const maskPrefix = "++++++++"

func newMasker(key []byte) (*masker, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	return &masker{key: key}, nil
}

// placeholder returns the stand-in for a Secret value.
func (m *masker) placeholder(value []byte) string {
	h := hmac.New(sha256.New, m.key)
	h.Write(value)
	return maskPrefix + " (hmac:" + hex.EncodeToString(h.Sum(nil)[:6]) + ")"
}

// object returns u with a Secret's data and stringData values replaced by
// placeholders; other kinds are returned as they are.
func (m *masker) object(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil || u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return u
	}
	out := u.DeepCopy()
	for _, field := range []string{"data", "stringData"} {
		vals, ok := out.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range vals {
			s, _ := v.(string)
			raw := []byte(s)
			if field == "data" {
				if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
					raw = dec
				}
			}
			vals[k] = m.placeholder(raw)
		}
	}
	return out
}

// secretValues lists the values of a Secret's data (raw and decoded) and
// stringData, longest first, for scrubbing text that might contain them.
func secretValues(objs ...*unstructured.Unstructured) []string {
	var out []string
	for _, u := range objs {
		if u == nil || u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			vals, _ := u.Object[field].(map[string]any)
			for _, v := range vals {
				s, ok := v.(string)
				if !ok || s == "" {
					continue
				}
				out = append(out, s)
				if dec, err := base64.StdEncoding.DecodeString(s); err == nil && len(dec) > 0 {
					out = append(out, string(dec))
				}
			}
		}
	}
	// Longest first, so a value that contains another is replaced whole.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// scrubError returns err with every Secret value of objs in its message replaced
// by the mask. A scrubbed error does not unwrap to its cause.
func scrubError(err error, objs ...*unstructured.Unstructured) error {
	vals := secretValues(objs...)
	if err == nil || len(vals) == 0 {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, v := range vals {
		clean = strings.ReplaceAll(clean, v, maskPrefix)
	}
	if clean == msg {
		return err
	}
	// The cause is not kept: unwrapping it would hand the value back.
	return errors.New(clean)
}
