// Package gittest runs real Git servers on loopback for tests: smart HTTP through
// git-http-backend behind net/http/cgi (optionally with basic or bearer
// authentication, TLS, or a connection that dies mid-transfer), SSH through an
// in-process golang.org/x/crypto/ssh server that executes git-upload-pack and
// git-receive-pack, and `git daemon`. It also builds repositories with the git CLI
// (a working clone published to a bare repository the servers serve), generates
// large histories with git fast-import, and signs commits with OpenPGP and SSH keys.
//
// Everything is cleaned up with t.Cleanup. Missing programs (git, gpg, ssh-keygen)
// are reported through internal/testtool: a failure in CI, a skip elsewhere.
package gittest
