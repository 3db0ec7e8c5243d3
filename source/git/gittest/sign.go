package gittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
)

// Signer makes signed commits in a [Repo].
type Signer struct {
	// PublicKey is what verifiers need: an armored OpenPGP public key, or an
	// authorized_keys line for SSH.
	PublicKey string
	config    []string
	env       []string
}

// Commit is [Repo.Commit] signed by s.
func (s *Signer) Commit(r *Repo, message string, files map[string]string) string {
	r.t.Helper()
	r.WriteFiles(files)
	r.Git("add", "-A")
	args := append(append([]string{}, s.config...), "commit", "-q", "--allow-empty", "-S", "-m", message)
	GitEnv(r.t, r.Work, s.env, args...)
	return r.Git("rev-parse", "HEAD")
}

// NewGPGSigner generates an ed25519 OpenPGP key in a temporary GnuPG home.
func NewGPGSigner(t testing.TB) *Signer {
	t.Helper()
	gpg := testtool.Require(t, "gpg")
	// A short home: gpg-agent's socket path must fit in a sockaddr_un.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	env := []string{"GNUPGHOME=" + home}
	run := func(args ...string) string {
		t.Helper()
		return runProgram(t, env, gpg, args...)
	}
	run("--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-generate-key", "Signer <signer@example.com>", "ed25519", "sign", "never")
	t.Cleanup(func() { _ = runQuiet(env, "gpgconf", "--kill", "gpg-agent") })
	return &Signer{
		PublicKey: run("--armor", "--export", "signer@example.com"),
		config:    []string{"-c", "gpg.program=" + gpg, "-c", "user.signingkey=signer@example.com"},
		env:       env,
	}
}

// NewSSHSigner generates an ed25519 SSH key with ssh-keygen and signs with
// `git -c gpg.format=ssh`.
func NewSSHSigner(t testing.TB) *Signer {
	t.Helper()
	keygen := testtool.Require(t, "ssh-keygen")
	key := filepath.Join(t.TempDir(), "id_ed25519")
	runProgram(t, nil, keygen, "-q", "-t", "ed25519", "-N", "", "-C", "signer@example.com", "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{
		PublicKey: strings.TrimSpace(string(pub)),
		config:    []string{"-c", "gpg.format=ssh", "-c", "gpg.ssh.program=" + keygen, "-c", "user.signingkey=" + key},
	}
}
