package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// SecretValues returns every value held under the data and stringData of the
// Secrets (core group) among objs, whatever its type, in each form an error may
// quote it in: a string as it is, Go-quoted, JSON-escaped and in base64 (and, under
// data, decoded from base64); a number or a bool as Go and JSON print it; a map or
// a list (a value written without the YAML "|" it needed) whole, as Go's %v and %#v
// and JSON print it, and then each of its leaves. Other objects and nil give none.
func SecretValues(objs ...*unstructured.Unstructured) Secrets {
	var out Secrets
	for _, u := range objs {
		if !IsSecret(u) {
			continue
		}
		for _, field := range []string{"data", "stringData"} {
			out = appendForms(out, u.Object[field], field == "data")
		}
	}
	return out
}

// IsSecret reports whether u is a core Secret.
func IsSecret(u *unstructured.Unstructured) bool {
	return u != nil && u.GetKind() == "Secret" && u.GroupVersionKind().Group == ""
}

// appendForms appends the forms of v and, for a map or a list, of its keys'
// values and elements. decode adds the base64-decoded form of a string.
func appendForms(out Secrets, v any, decode bool) Secrets {
	switch v := v.(type) {
	case nil:
		return out
	case string:
		out = appendString(out, v)
		if dec, err := base64.StdEncoding.DecodeString(v); decode && err == nil && len(dec) > 0 {
			out = appendString(out, string(dec))
		}
		return out
	case map[string]any:
		for _, e := range v {
			out = appendForms(out, e, decode)
		}
	case []any:
		for _, e := range v {
			out = appendForms(out, e, decode)
		}
	}
	// A number, a bool, or a map or list whole.
	out = append(out, fmt.Sprint(v), fmt.Sprintf("%#v", v))
	if b, err := json.Marshal(v); err == nil {
		out = append(out, string(b))
	}
	return out
}

// appendString appends s, its Go- and JSON-quoted forms without the quotes, and
// its base64.
func appendString(out Secrets, s string) Secrets {
	out = append(out, s, unquote(strconv.Quote(s)))
	if b, err := json.Marshal(s); err == nil {
		out = append(out, unquote(string(b)))
	}
	return append(out, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)))
}

func unquote(q string) string { return q[1 : len(q)-1] }

// Secret returns err with every value of the Secrets among objs hidden in its
// message ([SecretValues]); errors.Is and errors.As still see the cause. err is
// returned as it is when it holds none.
func Secret(err error, objs ...*unstructured.Unstructured) error {
	return SecretValues(objs...).Wrap(err)
}
