package sops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-logr/logr"
)

// DefaultMaxBytes bounds the size of one encrypted file or Secret value a
// [Decryptor] decrypts, as Flux's kustomize-controller does (5 MiB).
const DefaultMaxBytes = 5 << 20

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrNoKey means no key of the Decryptor opens the data key of a file: its
	// recipients are none of the Decryptor's keys.
	ErrNoKey = errors.New("no key opens the data key")
	// ErrMAC means the MAC of a file does not match its values: the file was
	// changed after it was encrypted.
	ErrMAC = errors.New("MAC does not verify")
	// ErrInvalid means a file or object holds SOPS metadata or an encrypted value
	// that cannot be read: a missing field, a truncated ENC[…] value, a value of
	// the wrong type.
	ErrInvalid = errors.New("invalid SOPS data")
	// ErrUnsupported means a file uses a part of the SOPS format this package
	// does not implement (key groups with a Shamir threshold, comment regexes,
	// the INI format).
	ErrUnsupported = errors.New("unsupported SOPS feature")
)

// Keys are the private keys a [Decryptor] opens data keys with, as text.
type Keys struct {
	// Age holds age identities in the form age-keygen writes: lines
	// "AGE-SECRET-KEY-1…" (or "AGE-SECRET-KEY-PQ-1…"), with "#" comments and
	// empty lines, any number of keys in each element.
	Age [][]byte
	// PGP holds OpenPGP private keys, ASCII-armored ("-----BEGIN PGP PRIVATE KEY
	// BLOCK-----"), not protected by a passphrase, any number in each element.
	PGP [][]byte
}

// KeysFromData returns the keys held by the entries of a Secret's data, named as
// Flux's decryption.secretRef names them: an entry whose name ends in ".agekey"
// holds age identities, one ending in ".asc" an armored OpenPGP private key.
// Other entries are left out.
func KeysFromData(data map[string][]byte) Keys {
	var k Keys
	for _, name := range slices.Sorted(maps.Keys(data)) {
		switch path.Ext(name) {
		case ".agekey":
			k.Age = append(k.Age, data[name])
		case ".asc":
			k.PGP = append(k.PGP, data[name])
		}
	}
	return k
}

// KeySource opens data keys held by master keys of a kind this package does not
// open itself: AWS KMS ("kms"), GCP KMS ("gcp_kms"), Azure Key Vault
// ("azure_kv"), HashiCorp Vault ("hc_vault"), HuaweiCloud KMS ("hckms"). It is
// the seam for cloud key management: an implementation links the cloud's SDK,
// so a program that sets none links none.
type KeySource interface {
	// DataKey returns the data key held by stanza, one entry of the list named
	// kind in a file's SOPS metadata (its fields as the file has them: "arn",
	// "enc", "context", "resource_id", "vault_url", ...). It returns an error
	// wrapping [ErrNoKey] when the source cannot open that stanza (another
	// account, another key), which lets the Decryptor try the next stanza.
	// Errors must not contain the data key.
	DataKey(ctx context.Context, kind string, stanza map[string]any) ([]byte, error)
	// ID identifies the keys the source can open, for the cache key of a
	// render (see [Decryptor.Digest]): an account and region, a key ring.
	ID() string
}

// Options configure a [Decryptor].
type Options struct {
	// Keys are the age and OpenPGP private keys.
	Keys Keys
	// KeySources open data keys held by cloud key management services. None is
	// set by default, and this package links no cloud SDK.
	KeySources []KeySource
	// MaxBytes bounds one encrypted file or Secret value (default
	// [DefaultMaxBytes]): Decrypt fails on a larger SOPS file with an error
	// wrapping ErrInvalid, and a [Renderer] hands a larger file to the renderer
	// unread, for its own limits (an object it makes with SOPS metadata then
	// fails the render).
	MaxBytes int64
	// Logger receives debug messages (which files were decrypted, never a
	// value); unset, the logger of the call's context
	// (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Decryptor decrypts SOPS-encrypted files and objects with the keys it was given.
// It is safe for concurrent use.
type Decryptor struct {
	opts    Options
	age     []age.Identity
	pgp     openpgp.EntityList
	digest  string
	maxSize int64
}

// New parses the keys of opts and returns a Decryptor. It fails when a key
// cannot be parsed; the error names the key by its place in opts, never by its
// content.
func New(opts Options) (*Decryptor, error) {
	d := &Decryptor{opts: opts, maxSize: opts.MaxBytes}
	if d.maxSize <= 0 {
		d.maxSize = DefaultMaxBytes
	}
	var pub []string
	for i, text := range opts.Keys.Age {
		ids, err := age.ParseIdentities(bytes.NewReader(text))
		if err != nil {
			return nil, fmt.Errorf("sops: age key %d: %w", i, err)
		}
		for _, id := range ids {
			switch id := id.(type) {
			case *age.X25519Identity:
				pub = append(pub, "age:"+id.Recipient().String())
			case *age.HybridIdentity:
				pub = append(pub, "age:"+id.Recipient().String())
			}
		}
		d.age = append(d.age, ids...)
	}
	for i, text := range opts.Keys.PGP {
		el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(text))
		if err != nil {
			return nil, fmt.Errorf("sops: OpenPGP key %d: %w", i, err)
		}
		for _, e := range el {
			fp := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
			if e.PrivateKey == nil {
				return nil, fmt.Errorf("sops: OpenPGP key %d (%s): no private key", i, fp)
			}
			if e.PrivateKey.Encrypted {
				return nil, fmt.Errorf("sops: OpenPGP key %d (%s): protected by a passphrase", i, fp)
			}
			pub = append(pub, "pgp:"+fp)
		}
		d.pgp = append(d.pgp, el...)
	}
	for _, s := range opts.KeySources {
		pub = append(pub, "source:"+s.ID())
	}
	slices.Sort(pub)
	h := sha256.New()
	for _, p := range pub {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	d.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return d, nil
}

// Digest identifies the Decryptor's key set: a SHA-256 of the public parts of
// its keys (age recipients, OpenPGP fingerprints) and of its key sources' IDs.
// Two Decryptors with the same keys have the same Digest. [Renderer] adds it to
// the cache key of a render.
func (d *Decryptor) Digest() string { return d.digest }
