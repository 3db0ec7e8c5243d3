package gittest

import (
	"bufio"
	"crypto/subtle"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitopskit/gitopskit/internal/testtool"
)

// HTTPOptions configures a smart-HTTP server.
type HTTPOptions struct {
	// Username and Password, when set, require HTTP basic authentication.
	Username, Password string
	// BearerToken, when set, requires "Authorization: Bearer <token>" (basic
	// authentication with the token as password is accepted too, as forges do).
	BearerToken string
	// TLS serves HTTPS with a self-signed certificate; see [HTTPServer.CAPEM].
	TLS bool
}

// HTTPServer serves the bare repositories under a root directory over smart HTTP.
type HTTPServer struct {
	// URL is the server's base URL; a repository's URL is URL + "/" + its name.
	URL string
	// CAPEM is the PEM certificate to trust when TLS is on.
	CAPEM []byte
	// Requests counts the HTTP requests served.
	Requests atomic.Int64
	// FailAfterBytes, when positive, makes every fetch (git-upload-pack POST) lose
	// its connection after that many response bytes: a server dying mid-transfer.
	// It can be changed while the server runs.
	FailAfterBytes atomic.Int64

	srv *httptest.Server
}

// NewHTTPServer starts a smart-HTTP server for the repositories under root; pushes
// are allowed. It stops at the end of the test.
func NewHTTPServer(t testing.TB, root string, opts HTTPOptions) *HTTPServer {
	t.Helper()
	s := &HTTPServer{}
	h := newHandler(t, root, opts, s.FailAfterBytes.Load)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		h.ServeHTTP(w, r)
	})
	s.srv = httptest.NewUnstartedServer(counted)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // killed connections are the point of some tests
	if opts.TLS {
		s.srv.StartTLS()
		s.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; fetches from it fail afterwards.
func (s *HTTPServer) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// HTTPHandler returns a handler serving the repositories under root over smart HTTP:
// git-http-backend through CGI behind the authentication opts ask for, for callers
// that run their own server. Pushes are allowed.
func HTTPHandler(t testing.TB, root string, opts HTTPOptions) http.Handler {
	t.Helper()
	return newHandler(t, root, opts, func() int64 { return 0 })
}

// NewHandler is [HTTPHandler] for programs that are not tests, such as demos: it
// fails when git is not installed instead of skipping a test.
func NewHandler(root string, opts HTTPOptions) (http.Handler, error) {
	return handler(root, opts, func() int64 { return 0 })
}

func newHandler(t testing.TB, root string, opts HTTPOptions, failAfter func() int64) http.Handler {
	t.Helper()
	testtool.Require(t, "git")
	h, err := handler(root, opts, failAfter)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func handler(root string, opts HTTPOptions, failAfter func() int64) (http.Handler, error) {
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("git --exec-path: %w", err)
	}
	backend := &cgi.Handler{
		Logger: log.New(io.Discard, "", 0),
		Stderr: io.Discard,
		Path:   filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r, opts) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if n := failAfter(); n > 0 && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			cw := &cuttingWriter{ResponseWriter: w, left: n}
			defer cw.cut()
			w = cw
		}
		backend.ServeHTTP(w, r)
	}), nil
}

func authorized(r *http.Request, opts HTTPOptions) bool {
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	if opts.BearerToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && eq(tok, opts.BearerToken) {
			return true
		}
		_, pass, ok := r.BasicAuth()
		return ok && eq(pass, opts.BearerToken)
	}
	if opts.Username == "" && opts.Password == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return ok && eq(user, opts.Username) && eq(pass, opts.Password)
}

// cuttingWriter passes through up to left bytes, then kills the connection.
type cuttingWriter struct {
	http.ResponseWriter
	left int64
	dead bool
}

func (c *cuttingWriter) Write(p []byte) (int, error) {
	if c.dead {
		return 0, net.ErrClosed
	}
	if int64(len(p)) > c.left {
		n, _ := c.ResponseWriter.Write(p[:c.left])
		c.cut()
		return n, net.ErrClosed
	}
	c.left -= int64(len(p))
	return c.ResponseWriter.Write(p)
}

func (c *cuttingWriter) cut() {
	if c.dead || c.left > 0 {
		return
	}
	c.dead = true
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := c.ResponseWriter.(http.Hijacker); ok {
		if conn, buf, err := hj.Hijack(); err == nil {
			flushAndClose(conn, buf)
		}
	}
}

func flushAndClose(conn net.Conn, buf *bufio.ReadWriter) {
	_ = buf.Flush()
	_ = conn.Close()
}
