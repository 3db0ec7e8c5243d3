package sops

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	agearmor "filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

// metadata is what a file's "sops" entry says.
type metadata struct {
	stanzas      map[string][]map[string]any // recipient stanzas by kind: "age", "pgp", "kms", ...
	lastModified string
	mac          string
	macOnlyEnc   bool
	match        matcher
}

// cloudKinds are the kinds of master keys a KeySource opens.
var cloudKinds = []string{"kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"}

// macOnlyEncryptedInit starts the hash of a MAC computed over encrypted values
// only, so that it differs from one over all values: SHA-256 of "sops".
var macOnlyEncryptedInit = func() []byte { s := sha256.Sum256([]byte("sops")); return s[:] }()

// parseMetadata reads the "sops" entry of a file, as a JSON-like map.
func parseMetadata(m map[string]any) (*metadata, error) {
	md := &metadata{stanzas: map[string][]map[string]any{}}
	str := func(key string) (string, error) {
		switch v := m[key].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		default:
			return "", fmt.Errorf("%w: sops.%s is a %T, not a string", ErrInvalid, key, v)
		}
	}
	var err error
	if md.mac, err = str("mac"); err != nil {
		return nil, err
	}
	if md.mac == "" {
		return nil, fmt.Errorf("%w: no sops.mac", ErrInvalid)
	}
	if md.lastModified, err = str("lastmodified"); err != nil {
		return nil, err
	}
	if md.lastModified == "" {
		return nil, fmt.Errorf("%w: no sops.lastmodified", ErrInvalid)
	}
	t, err := time.Parse(time.RFC3339, md.lastModified)
	if err != nil {
		return nil, fmt.Errorf("%w: sops.lastmodified is not an RFC 3339 time", ErrInvalid)
	}
	md.lastModified = t.Format(time.RFC3339) // what SOPS authenticates the MAC with
	for _, key := range []string{"key_groups", "shamir_threshold"} {
		if v, ok := m[key]; ok && v != nil {
			return nil, fmt.Errorf("%w: sops.%s (key groups)", ErrUnsupported, key)
		}
	}
	for _, key := range []string{"encrypted_comment_regex", "unencrypted_comment_regex"} {
		if v, _ := m[key].(string); v != "" {
			return nil, fmt.Errorf("%w: sops.%s", ErrUnsupported, key)
		}
	}
	if md.match.unencSuffix, err = str("unencrypted_suffix"); err != nil {
		return nil, err
	}
	if md.match.encSuffix, err = str("encrypted_suffix"); err != nil {
		return nil, err
	}
	for key, re := range map[string]**regexp.Regexp{"unencrypted_regex": &md.match.unencRegex, "encrypted_regex": &md.match.encRegex} {
		s, err := str(key)
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		if *re, err = regexp.Compile(s); err != nil {
			return nil, fmt.Errorf("%w: sops.%s: %w", ErrInvalid, key, err)
		}
	}
	switch v := m["mac_only_encrypted"].(type) {
	case nil:
	case bool:
		md.macOnlyEnc = v
	case string: // dotenv holds every value as a string
		md.macOnlyEnc = v == "true" || v == "True"
	default:
		return nil, fmt.Errorf("%w: sops.mac_only_encrypted is a %T, not a boolean", ErrInvalid, v)
	}
	n := 0
	for _, kind := range append([]string{"age", "pgp"}, cloudKinds...) {
		switch list := m[kind].(type) {
		case nil:
		case []any:
			for i, e := range list {
				st, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%w: sops.%s[%d] is not a mapping", ErrInvalid, kind, i)
				}
				md.stanzas[kind] = append(md.stanzas[kind], st)
				n++
			}
		default:
			return nil, fmt.Errorf("%w: sops.%s is not a list", ErrInvalid, kind)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no master key in the sops metadata", ErrInvalid)
	}
	return md, nil
}

// dataKey opens the file's data key with the first stanza a key of d opens:
// age, then OpenPGP, then the key sources, in the file's order.
func (d *Decryptor) dataKey(ctx context.Context, md *metadata) ([]byte, error) {
	var tried []string
	for i, st := range md.stanzas["age"] {
		enc, _ := st["enc"].(string)
		rcpt, _ := st["recipient"].(string)
		tried = append(tried, "age "+rcpt)
		if len(d.age) == 0 {
			continue
		}
		r, err := age.Decrypt(agearmor.NewReader(strings.NewReader(enc)), d.age...)
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: sops.age[%d] (%s): %w", ErrInvalid, i, rcpt, err)
		}
		return readKey(r, fmt.Sprintf("sops.age[%d]", i))
	}
	for i, st := range md.stanzas["pgp"] {
		enc, _ := st["enc"].(string)
		fp, _ := st["fp"].(string)
		tried = append(tried, "pgp "+fp)
		if len(d.pgp) == 0 {
			continue
		}
		block, err := pgparmor.Decode(strings.NewReader(enc))
		if err != nil {
			return nil, fmt.Errorf("%w: sops.pgp[%d] (%s): not an armored OpenPGP message", ErrInvalid, i, fp)
		}
		msg, err := openpgp.ReadMessage(block.Body, d.pgp, nil, nil)
		if errors.Is(err, pgperrors.ErrKeyIncorrect) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: sops.pgp[%d] (%s): %w", ErrInvalid, i, fp, err)
		}
		return readKey(msg.UnverifiedBody, fmt.Sprintf("sops.pgp[%d]", i))
	}
	for _, kind := range cloudKinds {
		for i, st := range md.stanzas[kind] {
			tried = append(tried, kind)
			for _, src := range d.opts.KeySources {
				key, err := src.DataKey(ctx, kind, st)
				if errors.Is(err, ErrNoKey) {
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("sops.%s[%d]: %w", kind, i, err)
				}
				if len(key) != 32 {
					return nil, fmt.Errorf("%w: sops.%s[%d]: data key of %d bytes, not 32", ErrInvalid, kind, i, len(key))
				}
				return key, nil
			}
		}
	}
	return nil, fmt.Errorf("%w (recipients: %s)", ErrNoKey, strings.Join(slices.Compact(tried), ", "))
}

func readKey(r io.Reader, what string) ([]byte, error) {
	key, err := io.ReadAll(io.LimitReader(r, 64))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: %s: data key of %d bytes, not 32", ErrInvalid, what, len(key))
	}
	return key, nil
}

// checkMAC compares the MAC the file holds with sum, the hash of its values.
func checkMAC(md *metadata, key []byte, sum []byte) error {
	want, err := decryptValue(md.mac, key, md.lastModified)
	if err != nil {
		return fmt.Errorf("sops.mac: %w", err)
	}
	got := fmt.Sprintf("%X", sum)
	if subtle.ConstantTimeCompare([]byte(want.text), []byte(got)) != 1 {
		return ErrMAC
	}
	return nil
}
