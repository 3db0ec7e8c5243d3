package sops_test

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/render/sops"
)

// testKeys are an age identity and an OpenPGP key made for a test, and a GnuPG
// home holding the OpenPGP key, from which the sops CLI encrypts and decrypts
// with OpenPGP without running gpg (it reads pubring.gpg and secring.gpg).
type testKeys struct {
	ageIdentity  string // AGE-SECRET-KEY-1…
	ageRecipient string // age1…
	pgpPrivate   []byte // armored
	pgpFP        string
	gnupgHome    string
}

var (
	keysOnce sync.Once
	keysMain testKeys
)

// newKeys makes a fresh key pair of each kind. OpenPGP key generation takes a
// while, so tests share the keys of sharedKeys where they can.
func newKeys(t testing.TB) testKeys {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256}
	e, err := openpgp.NewEntity("gitopskit test", "", "test@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var priv, pub, secring bytes.Buffer
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, cfg); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(&secring, cfg); err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("", "gitopskit-gnupg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"pubring.gpg": pub.Bytes(), "secring.gpg": secring.Bytes()} {
		if err := os.WriteFile(filepath.Join(home, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return testKeys{
		ageIdentity:  id.String(),
		ageRecipient: id.Recipient().String(),
		pgpPrivate:   priv.Bytes(),
		pgpFP:        strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)),
		gnupgHome:    home,
	}
}

// sharedKeys returns keys made once for the package's tests.
func sharedKeys(t testing.TB) testKeys {
	keysOnce.Do(func() { keysMain = newKeys(t) })
	return keysMain
}

func (k testKeys) decryptor(t testing.TB, age, pgp bool) *sops.Decryptor {
	t.Helper()
	var opts sops.Options
	if age {
		opts.Keys.Age = [][]byte{[]byte("# a comment\n" + k.ageIdentity + "\n")}
	}
	if pgp {
		opts.Keys.PGP = [][]byte{k.pgpPrivate}
	}
	d, err := sops.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sopsCLI runs the sops program in dir with the keys of k, and returns its
// standard output.
type sopsCLI struct {
	path string
	keys testKeys
}

func requireSOPS(t testing.TB, k testKeys) sopsCLI {
	t.Helper()
	return sopsCLI{path: testtool.Require(t, "sops"), keys: k}
}

func (c sopsCLI) run(t testing.TB, dir string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(c.path, args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"HOME=" + dir, // no user configuration, no keys.txt
		"GNUPGHOME=" + c.keys.gnupgHome,
		"SOPS_AGE_KEY=" + c.keys.ageIdentity,
		"PATH=/nonexistent", // no gpg: sops must do OpenPGP itself
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &cliError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type cliError struct {
	err    error
	stderr string
}

func (e *cliError) Error() string { return e.err.Error() + ": " + e.stderr }

// encrypt writes plain to dir/name and encrypts it in place with sops -e and
// args (recipients, regexes), returning the encrypted file.
func (c sopsCLI) encrypt(t testing.TB, dir, name string, plain []byte, args ...string) []byte {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := c.run(t, dir, append(append([]string{"-e"}, args...), name)...)
	if err != nil {
		t.Fatalf("sops -e %s: %v", name, err)
	}
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// decrypt runs sops -d on data written to dir/name.
func (c sopsCLI) decrypt(t testing.TB, dir, name string, data []byte) ([]byte, error) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return c.run(t, dir, "-d", name)
}
