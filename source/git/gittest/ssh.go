package gittest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gitopskit/gitopskit/internal/testtool"
)

// SSHServer serves the bare repositories under a root directory over SSH, in process,
// executing git-upload-pack and git-receive-pack for authorized keys.
type SSHServer struct {
	// URL is the server's base URL ("ssh://git@127.0.0.1:<port>"); a repository's
	// URL is URL + "/" + its name.
	URL string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// KnownHosts is a known_hosts line for the server.
	KnownHosts []byte

	root string
	ln   net.Listener
	wg   sync.WaitGroup
}

// NewSSHServer starts an SSH server for the repositories under root that accepts the
// given client public keys. It stops at the end of the test.
func NewSSHServer(t testing.TB, root string, authorized ...ssh.PublicKey) *SSHServer {
	t.Helper()
	testtool.Require(t, "git")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range authorized {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("unauthorized key")
		},
	}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SSHServer{root: root, ln: ln, HostKey: signer.PublicKey()}
	s.URL = "ssh://git@" + ln.Addr().String()
	s.KnownHosts = []byte(knownhosts.Line([]string{knownhosts.Normalize(ln.Addr().String())}, s.HostKey) + "\n")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn, cfg)
			}()
		}
	}()
	t.Cleanup(s.Close)
	return s
}

// Close stops accepting connections and waits for the open ones to end.
func (s *SSHServer) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *SSHServer) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		s.session(ch, creqs)
	}
}

// session waits for an exec request and runs the git command it names.
func (s *SSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var env []string
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil && kv.Name == "GIT_PROTOCOL" {
				env = append(env, kv.Name+"="+kv.Value)
			}
			_ = req.Reply(true, nil)
		case "exec":
			var cmdline struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &cmdline); err != nil {
				_ = req.Reply(false, nil)
				return
			}
			cmd, err := s.command(cmdline.Command)
			if err != nil {
				_ = req.Reply(false, nil)
				fmt.Fprintln(ch.Stderr(), err)
				return
			}
			_ = req.Reply(true, nil)
			cmd.Env = append(Env(), env...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
			status := uint32(0)
			if err := cmd.Run(); err != nil {
				status = 1
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					status = uint32(ee.ExitCode())
				}
			}
			_ = ch.CloseWrite()
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], status)
			_, _ = ch.SendRequest("exit-status", false, b[:])
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// command parses "git-upload-pack '/repo.git'" into a command on a path under root.
func (s *SSHServer) command(line string) (*exec.Cmd, error) {
	prog, arg, ok := strings.Cut(line, " ")
	if !ok || (prog != "git-upload-pack" && prog != "git-receive-pack") {
		return nil, fmt.Errorf("unsupported command %q", line)
	}
	arg = strings.Trim(strings.TrimSpace(arg), "'")
	p := filepath.Join(s.root, filepath.Clean("/"+arg))
	return exec.Command("git", strings.TrimPrefix(prog, "git-"), p), nil
}

// ClientKey generates an ed25519 client key; it returns the signer and its OpenSSH
// PEM encoding, encrypted with passphrase when one is given.
func ClientKey(t testing.TB, passphrase string) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}
