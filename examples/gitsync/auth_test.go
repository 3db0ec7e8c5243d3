package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// file writes content to a file of its own and returns its path.
func file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGitCredentials fetches through gitsync's run from loopback servers that
// require credentials, given as files and environment variables.
func TestGitCredentials(t *testing.T) {
	e := newSyncEnv(t)
	const user, password, token = "ci", "s3cret-pw", "s3cret-token"
	basic := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{Username: user, Password: password})
	bearer := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{BearerToken: token})
	signer, key := gittest.ClientKey(t, "")
	sshSrv := gittest.NewSSHServer(t, e.repo.Root, signer.PublicKey())
	_, otherKey := gittest.ClientKey(t, "")

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		ok   bool
		want string // in the output
	}{
		{name: "basic: none", args: []string{"--repo", basic.URL + "/app.git"}, want: "authentication required"},
		{name: "basic: wrong password", args: []string{"--repo", basic.URL + "/app.git", "--username", user, "--password-file", file(t, "pw", "guess\n")}, want: "authentication required"},
		{name: "basic: files", args: []string{"--repo", basic.URL + "/app.git", "--username", user, "--password-file", file(t, "pw", password+"\n")}, ok: true},
		{name: "basic: environment", env: map[string]string{envUsername: user, envPassword: password}, args: []string{"--repo", basic.URL + "/app.git"}, ok: true},
		{name: "basic: in the URL", args: []string{"--repo", strings.Replace(basic.URL, "http://", "http://"+user+":"+password+"@", 1) + "/app.git"}, ok: true,
			want: "the --repo URL carries a password"},
		{name: "bearer: file", args: []string{"--repo", bearer.URL + "/app.git", "--bearer-token-file", file(t, "token", token)}, ok: true},
		{name: "ssh: key and known hosts", args: []string{"--repo", sshSrv.URL + "/app.git", "--ssh-key-file", file(t, "id", string(key)),
			"--known-hosts-file", file(t, "known_hosts", string(sshSrv.KnownHosts))}, ok: true},
		{name: "ssh: another key", args: []string{"--repo", sshSrv.URL + "/app.git", "--ssh-key-file", file(t, "id", string(otherKey)),
			"--known-hosts-file", file(t, "known_hosts", string(sshSrv.KnownHosts))}, want: "unable to authenticate"},
		{name: "ssh: no known hosts", args: []string{"--repo", sshSrv.URL + "/app.git", "--ssh-key-file", file(t, "id", string(key))}, want: "--known-hosts-file"},
		{name: "missing file", args: []string{"--repo", basic.URL + "/app.git", "--password-file", filepath.Join(t.TempDir(), "none")}, want: "--password-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, out := e.run(tc.args...)
			if (code == 0) != tc.ok {
				t.Fatalf("exit %d, want success %v:\n%s", code, tc.ok, out)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, out)
			}
			for _, secret := range []string{password, token, "guess"} {
				if strings.Contains(out, secret) {
					t.Errorf("output shows a secret:\n%s", out)
				}
			}
		})
	}
}
