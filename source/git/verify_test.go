package git

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/source/git/gittest"
)

func TestVerifySignatures(t *testing.T) {
	gpg := gittest.NewGPGSigner(t)
	sshSigner := gittest.NewSSHSigner(t)
	otherSSH := gittest.NewSSHSigner(t)
	r := gittest.NewRepo(t, "", "repo.git")
	r.Commit("unsigned", map[string]string{"a.yaml": "a: 1\n"})
	r.Git("branch", "unsigned")
	gpg.Commit(r, "gpg signed", map[string]string{"a.yaml": "a: 2\n"})
	r.Git("branch", "gpg")
	sshSigner.Commit(r, "ssh signed", map[string]string{"a.yaml": "a: 3\n"})
	r.Git("branch", "ssh")
	r.Publish()

	// Tampered: same signature header, different tree.
	sshHead := r.Git("rev-parse", "ssh")
	raw := r.Git("cat-file", "commit", sshHead)
	tampered := strings.Replace(raw, "ssh signed", "ssh signed (edited)", 1)
	tamperedFile := filepath.Join(t.TempDir(), "commit")
	must(t, os.WriteFile(tamperedFile, []byte(tampered+"\n"), 0o644))
	th := r.Git("hash-object", "-t", "commit", "-w", tamperedFile)
	r.Git("branch", "tampered", th)
	gpgHead := r.Git("rev-parse", "gpg")
	rawGPG := r.Git("cat-file", "commit", gpgHead)
	must(t, os.WriteFile(tamperedFile, []byte(strings.Replace(rawGPG, "gpg signed", "gpg signed!", 1)+"\n"), 0o644))
	r.Git("branch", "tampered-gpg", r.Git("hash-object", "-t", "commit", "-w", tamperedFile))
	r.Publish()

	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	url := srv.URL + "/repo.git"
	trustAll := &Verification{OpenPGPKeyRings: []string{gpg.PublicKey}, SSHKeys: []string{sshSigner.PublicKey}}
	for _, tc := range []struct {
		branch string
		verify *Verification
		want   error
	}{
		{"gpg", trustAll, nil},
		{"ssh", trustAll, nil},
		{"unsigned", trustAll, ErrUnsigned},
		{"tampered", trustAll, ErrBadSignature},
		{"tampered-gpg", trustAll, ErrBadSignature},
		{"ssh", &Verification{SSHKeys: []string{otherSSH.PublicKey}}, ErrBadSignature},
		{"gpg", &Verification{SSHKeys: []string{sshSigner.PublicKey}}, ErrBadSignature},
		{"unsigned", nil, nil},
	} {
		_, err := fetch(t, Options{URL: url, Ref: Ref{Branch: tc.branch}, Verify: tc.verify})
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.branch, err)
			}
			continue
		}
		var se *SignatureError
		if !errors.Is(err, tc.want) || !errors.As(err, &se) || se.Commit == "" {
			t.Errorf("%s: err = %v, want %v in a *SignatureError", tc.branch, err, tc.want)
		}
	}
}

func FuzzParseSSHSignature(f *testing.F) {
	f.Add([]byte(sshSigArmorStart + "\nU1NIU0lHAAAAAQ==\n" + sshSigArmorEnd))
	f.Add([]byte(sshSigArmorStart + "\n" + sshSigArmorEnd))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, armored []byte) {
		_, _, _, _ = parseSSHSignature(armored)
		if err := verifySSHSignature([]byte("msg"), armored, nil); err == nil {
			t.Fatal("a signature verified against no trusted keys")
		}
	})
}
