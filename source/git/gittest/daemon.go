package gittest

import (
	"net"
	"os/exec"
	"sync"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
)

// Daemon serves the bare repositories under a root directory with `git daemon`
// (the git:// protocol), one `git daemon --inetd` process per connection.
type Daemon struct {
	// URL is the daemon's base URL ("git://127.0.0.1:<port>"); a repository's URL
	// is URL + "/" + its name.
	URL string

	ln net.Listener
	wg sync.WaitGroup
}

// NewDaemon starts a git daemon for the repositories under root with pushes
// enabled. It stops at the end of the test.
func NewDaemon(t testing.TB, root string) *Daemon {
	t.Helper()
	testtool.Require(t, "git")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{URL: "git://" + ln.Addr().String(), ln: ln}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				defer conn.Close()
				cmd := exec.Command("git", "daemon", "--inetd", "--export-all", "--log-destination=none",
					"--enable=receive-pack", "--base-path="+root, root)
				cmd.Env = Env()
				cmd.Stdin, cmd.Stdout = conn, conn
				_ = cmd.Run()
			}()
		}
	}()
	t.Cleanup(d.Close)
	return d
}

// Close stops accepting connections and waits for the open ones to end.
func (d *Daemon) Close() {
	_ = d.ln.Close()
	d.wg.Wait()
}
