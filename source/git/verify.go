package git

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
)

// Signature errors, matched by a [*SignatureError] with errors.Is.
var (
	// ErrUnsigned: the commit carries no signature.
	ErrUnsigned = errors.New("commit is not signed")
	// ErrBadSignature: the signature is malformed, does not match the commit, or
	// was made by a key the caller did not trust.
	ErrBadSignature = errors.New("commit signature not valid for any trusted key")
)

// Verification lists the keys a commit must be signed with. A commit is accepted
// when one key verifies its signature.
type Verification struct {
	// OpenPGPKeyRings are ASCII-armored OpenPGP public key rings.
	OpenPGPKeyRings []string
	// SSHKeys are public keys in authorized_keys format ("ssh-ed25519 AAAA…
	// comment"), checked against SSH signatures (gpg.format=ssh, namespace "git").
	SSHKeys []string
}

// SignatureError reports a commit refused by signature verification.
type SignatureError struct {
	// Commit is the commit's hash.
	Commit string
	// Err is ErrUnsigned or ErrBadSignature, possibly wrapping the cause.
	Err error
}

// Error implements error.
func (e *SignatureError) Error() string {
	return fmt.Sprintf("verify commit %s: %v", e.Commit, e.Err)
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *SignatureError) Unwrap() error { return e.Err }

func (v *Verification) verify(c *object.Commit) error {
	fail := func(err error) error { return &SignatureError{Commit: c.Hash.String(), Err: err} }
	sig := strings.TrimSpace(c.PGPSignature)
	if sig == "" {
		return fail(ErrUnsigned)
	}
	if strings.HasPrefix(sig, sshSigArmorStart) {
		payload, err := unsignedPayload(c)
		if err != nil {
			return fail(err)
		}
		if err := verifySSHSignature(payload, []byte(sig), v.SSHKeys); err != nil {
			return fail(fmt.Errorf("%w: %w", ErrBadSignature, err))
		}
		return nil
	}
	var last error = errors.New("no OpenPGP key ring given")
	for _, ring := range v.OpenPGPKeyRings {
		if _, err := c.Verify(ring); err != nil {
			last = err
			continue
		}
		return nil
	}
	return fail(fmt.Errorf("%w: %w", ErrBadSignature, last))
}

func unsignedPayload(c *object.Commit) ([]byte, error) {
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		return nil, err
	}
	rd, err := o.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

const (
	sshSigArmorStart = "-----BEGIN SSH SIGNATURE-----"
	sshSigArmorEnd   = "-----END SSH SIGNATURE-----"
	sshSigMagic      = "SSHSIG"
	sshSigNamespace  = "git"
)

// sshSignature is the body of an SSH signature after the magic preamble
// (OpenSSH PROTOCOL.sshsig).
type sshSignature struct {
	Version       uint32
	PublicKey     []byte
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Signature     []byte
}

// parseSSHSignature decodes an armored SSH signature.
func parseSSHSignature(armored []byte) (*sshSignature, ssh.PublicKey, *ssh.Signature, error) {
	s := strings.TrimSpace(string(armored))
	body, ok := strings.CutPrefix(s, sshSigArmorStart)
	if !ok {
		return nil, nil, nil, errors.New("not an armored SSH signature")
	}
	body, ok = strings.CutSuffix(body, sshSigArmorEnd)
	if !ok {
		return nil, nil, nil, errors.New("SSH signature armor not terminated")
	}
	raw, err := decodeBase64Lines(body)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("SSH signature: %w", err)
	}
	rest, ok := bytes.CutPrefix(raw, []byte(sshSigMagic))
	if !ok {
		return nil, nil, nil, errors.New("SSH signature: bad magic")
	}
	var sig sshSignature
	if err := ssh.Unmarshal(rest, &sig); err != nil {
		return nil, nil, nil, fmt.Errorf("SSH signature: %w", err)
	}
	if sig.Version != 1 {
		return nil, nil, nil, fmt.Errorf("SSH signature: unsupported version %d", sig.Version)
	}
	pub, err := ssh.ParsePublicKey(sig.PublicKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("SSH signature public key: %w", err)
	}
	var blob ssh.Signature
	if err := ssh.Unmarshal(sig.Signature, &blob); err != nil {
		return nil, nil, nil, fmt.Errorf("SSH signature blob: %w", err)
	}
	return &sig, pub, &blob, nil
}

// verifySSHSignature checks an armored SSH signature over message, in namespace
// "git", by one of the trusted authorized_keys lines.
func verifySSHSignature(message, armored []byte, trusted []string) error {
	sig, pub, blob, err := parseSSHSignature(armored)
	if err != nil {
		return err
	}
	if sig.Namespace != sshSigNamespace {
		return fmt.Errorf("SSH signature namespace %q, want %q", sig.Namespace, sshSigNamespace)
	}
	if !trustedKey(pub, trusted) {
		return fmt.Errorf("SSH signature by untrusted key %s", ssh.FingerprintSHA256(pub))
	}
	digest, err := hashMessage(sig.HashAlgorithm, message)
	if err != nil {
		return err
	}
	signed := append([]byte(sshSigMagic), ssh.Marshal(struct {
		Namespace, Reserved, HashAlgorithm string
		Hash                               []byte
	}{sig.Namespace, sig.Reserved, sig.HashAlgorithm, digest})...)
	if err := pub.Verify(signed, blob); err != nil {
		return fmt.Errorf("SSH signature by %s: %w", ssh.FingerprintSHA256(pub), err)
	}
	return nil
}

func trustedKey(pub ssh.PublicKey, trusted []string) bool {
	want := pub.Marshal()
	for _, line := range trusted {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err == nil && bytes.Equal(k.Marshal(), want) {
			return true
		}
	}
	return false
}
