package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// encPrefix starts every value SOPS encrypted.
const encPrefix = "ENC[AES256_GCM,"

// encValue is a value SOPS encrypted: ENC[AES256_GCM,data:…,iv:…,tag:…,type:…].
type encValue struct {
	data, iv, tag []byte
	typ           string
}

// parseValue parses an encrypted value. Its errors never quote s.
func parseValue(s string) (encValue, error) {
	var v encValue
	if !strings.HasPrefix(s, encPrefix) || !strings.HasSuffix(s, "]") {
		return v, fmt.Errorf("%w: not an ENC[AES256_GCM,…] value", ErrInvalid)
	}
	parts := strings.Split(s[len(encPrefix):len(s)-1], ",")
	if len(parts) != 4 {
		return v, fmt.Errorf("%w: ENC[…] value has %d fields, not 4", ErrInvalid, len(parts))
	}
	fields := [4]*[]byte{&v.data, &v.iv, &v.tag, nil}
	for i, name := range []string{"data", "iv", "tag", "type"} {
		val, ok := strings.CutPrefix(parts[i], name+":")
		if !ok {
			return v, fmt.Errorf("%w: ENC[…] value: field %d is not %s", ErrInvalid, i+1, name)
		}
		if fields[i] == nil {
			v.typ = val
			continue
		}
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return v, fmt.Errorf("%w: ENC[…] value: %s is not base64", ErrInvalid, name)
		}
		*fields[i] = b
	}
	switch {
	case len(v.iv) == 0:
		return v, fmt.Errorf("%w: ENC[…] value: empty iv", ErrInvalid)
	case len(v.tag) != 16:
		return v, fmt.Errorf("%w: ENC[…] value: tag of %d bytes, not 16", ErrInvalid, len(v.tag))
	}
	switch v.typ {
	case "str", "int", "float", "bool", "bytes", "time", "comment":
	default:
		return v, fmt.Errorf("%w: ENC[…] value: unknown type %q", ErrInvalid, v.typ)
	}
	return v, nil
}

// plain is a decrypted value: its SOPS type and its text.
type plain struct {
	typ  string
	text string
}

// decryptValue decrypts s, an encrypted value, with key and aad (the value's
// path, each key followed by ":"). An empty s is an empty string, which SOPS
// leaves as it is. Errors never contain the plaintext.
func decryptValue(s string, key []byte, aad string) (plain, error) {
	if s == "" {
		return plain{typ: "str"}, nil
	}
	v, err := parseValue(s)
	if err != nil {
		return plain{}, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return plain{}, fmt.Errorf("%w: data key: %w", ErrInvalid, err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(v.iv))
	if err != nil {
		return plain{}, fmt.Errorf("%w: ENC[…] value: %w", ErrInvalid, err)
	}
	out, err := gcm.Open(nil, v.iv, append(v.data, v.tag...), []byte(aad))
	if err != nil {
		return plain{}, fmt.Errorf("%w: value does not authenticate (changed, moved, or encrypted with another data key)", ErrMAC)
	}
	p := plain{typ: v.typ, text: string(out)}
	if _, err := p.macBytes(); err != nil {
		return plain{}, err
	}
	return p, nil
}

// macBytes returns the bytes SOPS hashes into the MAC for p: the value as SOPS
// parsed it, printed again.
func (p plain) macBytes() ([]byte, error) {
	switch p.typ {
	case "int":
		n, err := strconv.Atoi(p.text)
		if err != nil {
			return nil, fmt.Errorf("%w: value of type int is not an integer", ErrInvalid)
		}
		return []byte(strconv.Itoa(n)), nil
	case "float":
		f, err := strconv.ParseFloat(p.text, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: value of type float is not a number", ErrInvalid)
		}
		return []byte(strconv.FormatFloat(f, 'f', -1, 64)), nil
	case "bool":
		b, err := strconv.ParseBool(p.text)
		if err != nil {
			return nil, fmt.Errorf("%w: value of type bool is not a boolean", ErrInvalid)
		}
		return boolBytes(b), nil
	case "time":
		var t time.Time
		if err := t.UnmarshalText([]byte(p.text)); err != nil {
			return nil, fmt.Errorf("%w: value of type time is not a time", ErrInvalid)
		}
		return t.MarshalText()
	}
	return []byte(p.text), nil
}

func boolBytes(b bool) []byte {
	if b {
		return []byte("True")
	}
	return []byte("False")
}

// value returns p as a value of an unstructured object.
func (p plain) value() any {
	switch p.typ {
	case "int":
		n, _ := strconv.ParseInt(p.text, 10, 64)
		return n
	case "float":
		f, _ := strconv.ParseFloat(p.text, 64)
		return f
	case "bool":
		b, _ := strconv.ParseBool(p.text)
		return b
	}
	return p.text
}

// matcher tells which values of a file are encrypted, from its metadata.
type matcher struct {
	unencSuffix, encSuffix string
	unencRegex, encRegex   *regexp.Regexp
}

// encrypted reports whether the value at path is encrypted, with SOPS' rules:
// unencrypted_suffix, then encrypted_suffix, then unencrypted_regex, then
// encrypted_regex, each matched against every key of the path.
func (m matcher) encrypted(path []string) bool {
	enc := true
	if m.unencSuffix != "" && anyKey(path, func(k string) bool { return strings.HasSuffix(k, m.unencSuffix) }) {
		enc = false
	}
	if m.encSuffix != "" {
		enc = anyKey(path, func(k string) bool { return strings.HasSuffix(k, m.encSuffix) })
	}
	if m.unencRegex != nil && anyKey(path, m.unencRegex.MatchString) {
		enc = false
	}
	if m.encRegex != nil {
		enc = anyKey(path, m.encRegex.MatchString)
	}
	return enc
}

func anyKey(path []string, f func(string) bool) bool {
	for _, k := range path {
		if f(k) {
			return true
		}
	}
	return false
}

// aad returns the additional data a value at path is encrypted with.
func aad(path []string) string {
	return strings.Join(path, ":") + ":"
}
