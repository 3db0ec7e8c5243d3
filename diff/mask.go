package diff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/internal/redact"
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
	if !redact.IsSecret(u) {
		return u
	}
	out := u.DeepCopy()
	for _, field := range []string{"data", "stringData"} {
		vals, ok := out.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range vals {
			s, ok := v.(string)
			raw := []byte(s)
			switch {
			case !ok: // a map, a list, a number: its JSON, so that values differ
				raw, _ = json.Marshal(v)
			case field == "data":
				if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
					raw = dec
				}
			}
			vals[k] = m.placeholder(raw)
		}
	}
	return out
}
