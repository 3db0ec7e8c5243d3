package git

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"

	"github.com/gitopskit/gitopskit/internal/redact"
)

// remote is a repository's transport configuration, built once by New.
type remote struct {
	url      string // without credentials
	endpoint *transport.Endpoint
	auth     transport.AuthMethod
	caBundle []byte
	secrets  redact.Secrets
}

func newRemote(rawURL string, a Auth) (*remote, error) {
	clean, user, pass := splitUserinfo(rawURL)
	if a.Username == "" && a.Password == "" {
		a.Username, a.Password = user, pass
	}
	r := &remote{url: clean, caBundle: a.CABundle}
	r.secrets = append(redact.BasicAuth(a.Username, a.Password), a.Password, a.BearerToken, a.SSHPassphrase)
	ep, err := transport.NewEndpoint(clean)
	if err != nil {
		return nil, r.secrets.Wrap(fmt.Errorf("repository URL %s: %w", clean, err))
	}
	r.endpoint = ep
	switch ep.Protocol {
	case "http", "https":
		switch {
		case a.BearerToken != "":
			r.auth = &githttp.TokenAuth{Token: a.BearerToken}
		case a.Username != "" || a.Password != "":
			r.auth = &githttp.BasicAuth{Username: a.Username, Password: a.Password}
		}
	case "ssh":
		auth, err := sshAuth(ep, a)
		if err != nil {
			return nil, r.secrets.Wrap(fmt.Errorf("repository %s: %w", clean, err))
		}
		r.auth = auth
	}
	return r, nil
}

func sshAuth(ep *transport.Endpoint, a Auth) (transport.AuthMethod, error) {
	user := ep.User
	if user == "" {
		user = "git"
	}
	if len(a.SSHPrivateKey) == 0 {
		return nil, errors.New("SSH needs a private key (Auth.SSHPrivateKey)")
	}
	keys, err := gitssh.NewPublicKeys(user, a.SSHPrivateKey, a.SSHPassphrase)
	if err != nil {
		return nil, fmt.Errorf("SSH private key: %w", err)
	}
	if a.InsecureIgnoreHostKey {
		keys.HostKeyCallback = ssh.InsecureIgnoreHostKey()
		return keys, nil
	}
	if len(a.KnownHosts) == 0 {
		return nil, ErrKnownHostsRequired
	}
	db, err := knownHostsDB(a.KnownHosts)
	if err != nil {
		return nil, err
	}
	cb := db.HostKeyCallback()
	keys.HostKeyCallback = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := cb(hostname, remote, key); err != nil {
			return fmt.Errorf("%w: %w", ErrUnknownHostKey, err)
		}
		return nil
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	keys.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, fmt.Sprint(port)))
	return keys, nil
}

// knownHostsDB parses known_hosts content. The parser reads files, so the content
// goes through a temporary file removed before returning.
func knownHostsDB(content []byte) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp("", "known_hosts")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	db, err := knownhosts.NewDB(f.Name())
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %s", strings.ReplaceAll(err.Error(), f.Name(), "line"))
	}
	return db, nil
}
