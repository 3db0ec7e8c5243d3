package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/gitopskit/gitopskit/source/git"
)

// Environment variables that carry HTTP basic credentials, the conventional
// alternative to files for a container's secrets. The flags win over them.
const (
	envUsername = "GITSYNC_USERNAME"
	envPassword = "GITSYNC_PASSWORD"
)

// credentials are the flags that name where the Git credentials are: files and
// the environment, never the command line, which `ps` shows to every user.
type credentials struct {
	username, passwordFile, bearerTokenFile, sshKeyFile, knownHostsFile string
}

// gitAuth reads the credentials the flags and the environment name. Errors name
// the file, never its content.
func gitAuth(c credentials) (git.Auth, error) {
	a := git.Auth{Username: c.username, Password: os.Getenv(envPassword)}
	if a.Username == "" {
		a.Username = os.Getenv(envUsername)
	}
	read := func(flag, path string, trim bool) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", flag, err)
		}
		s := string(b)
		if trim {
			// Files written by `echo` or a Secret's editor end with a newline.
			s = strings.TrimSpace(s)
		}
		if s == "" {
			return "", fmt.Errorf("%s %s: the file is empty", flag, path)
		}
		return s, nil
	}
	var err error
	if c.passwordFile != "" {
		if a.Password, err = read("--password-file", c.passwordFile, true); err != nil {
			return a, err
		}
	}
	if a.BearerToken, err = read("--bearer-token-file", c.bearerTokenFile, true); err != nil {
		return a, err
	}
	key, err := read("--ssh-key-file", c.sshKeyFile, false)
	if err != nil {
		return a, err
	}
	hosts, err := read("--known-hosts-file", c.knownHostsFile, false)
	if err != nil {
		return a, err
	}
	if key != "" {
		a.SSHPrivateKey = []byte(key)
	}
	if hosts != "" {
		a.KnownHosts = []byte(hosts)
	}
	return a, nil
}

// urlPassword reports whether the repository URL carries a password (or a token
// in its place), which every user who can list processes sees.
func urlPassword(repo string) bool {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}
