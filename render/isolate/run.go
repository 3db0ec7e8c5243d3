package isolate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gitopskit/gitopskit/render"
)

// Bounds of the stderr a CrashError carries.
const (
	stderrLines     = 20
	stderrLineBytes = 300
)

// run starts exe as a child, sends it the request and returns its result.
func run(ctx context.Context, exe string, o Options, in render.Input, opts render.Options) (*render.Result, error) {
	dir := displayDir(in.Dir)
	lim := o.Limits.WithDefaults(opts.Limits)
	req := request{Spec: o.Spec, Options: opts, Dir: in.Dir, Memory: lim.Memory, CPU: lim.CPU, Input: lim.Input}
	req.Root, req.RootKind = diskRoot(in.FS)
	if in.FS == nil {
		return nil, fmt.Errorf("render %s: no input file system", dir)
	}
	head, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	head = append(head, '\n')

	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	c := &child{dir: dir, lim: lim, nonce: hex.EncodeToString(nonce), started: time.Now()}
	wallCtx, cancel := context.WithTimeout(ctx, lim.Wall)
	defer cancel()
	cmd := exec.Command(exe, childArg)
	cmd.Env = append(os.Environ(), envNonce+"="+c.nonce)
	// Its own process group, so that everything it starts dies with it; and
	// killed if this process dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = &c.stderr
	// A program the child starts in a session of its own could keep stderr open
	// after the child's group is killed: Wait does not wait for it for long.
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("render %s: start child: %w", dir, err)
	}
	c.pid = cmd.Process.Pid

	// The child is killed when the wall time or the context ends, or when it does
	// not answer the handshake in time; done stops the watch once it has exited.
	handshook := make(chan struct{})
	done := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func(handshook chan struct{}) {
		defer watch.Done()
		timer := time.NewTimer(min(handshakeWait, lim.Wall))
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-handshook:
				handshook = nil
			case <-timer.C:
				if handshook != nil {
					c.kill(killHandshake)
				}
			case <-wallCtx.Done():
				c.kill(killContext)
				return
			}
		}
	}(handshook)

	resp, readErr := c.read(stdout, stdin, head, in, handshook)
	if readErr != nil {
		c.kill(killRead)
	}
	waitErr := cmd.Wait()
	close(done)
	watch.Wait()
	return c.result(ctx, resp, readErr, waitErr, cmd.ProcessState)
}

// Why the parent killed a child.
const (
	killNone = iota
	killHandshake
	killContext
	killRead
)

// child is the parent's view of one child process.
type child struct {
	dir     string
	lim     Limits
	nonce   string
	started time.Time
	pid     int
	stderr  tail

	mu     sync.Mutex
	killed int
}

// kill kills the child's process group, once, remembering why.
func (c *child) kill(why int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed != killNone {
		return
	}
	c.killed = why
	_ = syscall.Kill(-c.pid, syscall.SIGKILL)
}

func (c *child) why() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}

// errHandshake means the child's first line was not the handshake.
var errHandshake = errors.New("no handshake")

// read checks the handshake, then sends the request and reads the response,
// bounded by the output limit.
func (c *child) read(stdout io.Reader, stdin io.WriteCloser, head []byte, in render.Input, handshook chan struct{}) (*response, error) {
	br := bufio.NewReaderSize(stdout, 4096)
	want := handshakePrefix + c.nonce + "\n"
	line, err := br.ReadSlice('\n')
	if err != nil || string(line) != want {
		stdin.Close()
		return nil, errHandshake
	}
	close(handshook)

	// Only a child that answered gets the request: it may hold credentials.
	writeErr := make(chan error, 1)
	go func() {
		defer stdin.Close()
		if _, err := stdin.Write(head); err != nil {
			writeErr <- err
			return
		}
		if root, _ := diskRoot(in.FS); root == "" {
			writeErr <- writeTar(stdin, in.FS, c.lim.Input)
			return
		}
		writeErr <- nil
	}()
	body, err := io.ReadAll(io.LimitReader(br, c.lim.Output+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > c.lim.Output {
		return nil, &LimitError{Dir: c.dir, Limit: LimitOutput, Value: fmt.Sprintf("%d bytes", c.lim.Output)}
	}
	if err := <-writeErr; err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			le.Dir = c.dir
			return nil, le
		}
		// A child that ends early closes its input: its own result says why.
		if len(body) == 0 {
			return nil, fmt.Errorf("send input: %w", err)
		}
	}
	if len(body) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	var resp response
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	return &resp, nil
}

// result turns how the child ended into the render's result or error.
func (c *child) result(ctx context.Context, resp *response, readErr, waitErr error, ps *os.ProcessState) (*render.Result, error) {
	if readErr == nil && waitErr == nil {
		// A complete answer wins over a kill that came after it.
		if resp.Error != nil {
			return nil, resp.Error.err()
		}
		res, err := decodeResult(resp)
		if err != nil {
			return nil, fmt.Errorf("render %s: read result: %w", c.dir, err)
		}
		return res, nil
	}
	var le *LimitError
	switch why := c.why(); {
	case errors.Is(readErr, errHandshake) && ctx.Err() == nil:
		return nil, fmt.Errorf("render %s: child %s: %w%s", c.dir, status(ps, why), ErrNoHook, c.stderr.suffix())
	case why == killContext && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("render %s: %w", c.dir, ctx.Err())
	case why == killContext && ctx.Err() != nil:
		d, _ := ctx.Deadline()
		return nil, &LimitError{Dir: c.dir, Limit: LimitWall, Value: d.Sub(c.started).Round(time.Millisecond).String() + ", the context's deadline", Err: ctx.Err()}
	case why == killContext:
		return nil, &LimitError{Dir: c.dir, Limit: LimitWall, Value: c.lim.Wall.String()}
	case errors.As(readErr, &le):
		return nil, le
	case errors.Is(readErr, errHandshake):
		return nil, fmt.Errorf("render %s: child %s: %w%s", c.dir, status(ps, why), ErrNoHook, c.stderr.suffix())
	}
	// The kernel counts CPU time in ticks and rusage scales it: allow for a tick
	// or two below the limit the child set (rounded up to seconds).
	if ps != nil && signaled(ps, syscall.SIGKILL) && cpuTime(ps) >= c.lim.CPU.Truncate(time.Second)-100*time.Millisecond {
		return nil, &LimitError{Dir: c.dir, Limit: LimitCPU, Value: c.lim.CPU.String()}
	}
	memory := fmt.Sprintf("%d bytes", c.lim.Memory)
	switch s := c.stderr.String(); {
	case strings.Contains(s, "out of memory") || strings.Contains(s, "cannot allocate memory"):
		return nil, &LimitError{Dir: c.dir, Limit: LimitMemory, Value: memory}
	case strings.Contains(s, "stack overflow") || strings.Contains(s, "stack exceeds"):
		return nil, &LimitError{Dir: c.dir, Limit: LimitMemory, Value: memory, Detail: "stack overflow"}
	}
	return nil, &CrashError{Dir: c.dir, Status: status(ps, c.why()), Stderr: c.stderr.lines()}
}

func status(ps *os.ProcessState, why int) string {
	switch {
	case why == killHandshake || why == killContext && ps != nil && !ps.Exited():
		return "gave no handshake in time and was killed"
	case ps == nil:
		return "did not start"
	case signaled(ps, syscall.SIGKILL):
		return fmt.Sprintf("%s after %s of CPU time", ps, cpuTime(ps).Round(time.Millisecond))
	}
	return ps.String()
}

func signaled(ps *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func cpuTime(ps *os.ProcessState) time.Duration {
	return ps.UserTime() + ps.SystemTime()
}

// tail keeps the first and the last lines written to it, each cut to
// stderrLineBytes: what a program refusing its arguments says first, and the
// message and end of the stack of a Go fatal error. A Go runtime crash prints no
// values of the program's data, only addresses and names; the value of a panic
// is withheld, unless it is the runtime's own ("panic: runtime error: ...").
type tail struct {
	mu      sync.Mutex
	head    []string // the first stderrHead lines
	buf     []string // the last stderrLines lines after them
	skipped bool     // lines between head and buf were dropped
	// withhold drops the lines of a panic's value.
	withhold bool
	part     []byte
}

const stderrHead = 3

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		end := i
		if i < 0 {
			end = len(p)
		}
		if room := stderrLineBytes - len(t.part); room > 0 {
			t.part = append(t.part, p[:min(end, room)]...)
		}
		if i < 0 {
			break
		}
		t.push(string(t.part))
		t.part = t.part[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (t *tail) push(line string) {
	switch {
	case strings.HasPrefix(line, "panic: ") && !strings.HasPrefix(line, "panic: runtime error:"):
		// A panic's value is the program's: it may quote the data rendered.
		line, t.withhold = "panic: (value withheld)", true
	case t.withhold && (strings.TrimSpace(line) == "" || strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, "[signal ")):
		t.withhold = false
	case t.withhold:
		return
	}
	if strings.TrimSpace(line) == "" {
		return
	}
	if len(t.head) < stderrHead {
		t.head = append(t.head, line)
		return
	}
	t.buf = append(t.buf, line)
	if len(t.buf) > stderrLines {
		t.buf, t.skipped = t.buf[len(t.buf)-stderrLines:], true
	}
}

// lines returns the lines kept, with "..." where some were dropped.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.head...)
	if t.skipped {
		out = append(out, "...")
	}
	out = append(out, t.buf...)
	if len(t.part) > 0 {
		out = append(out, string(t.part))
	}
	return out
}

func (t *tail) String() string { return strings.Join(t.lines(), "\n") }

func (t *tail) suffix() string {
	if l := t.lines(); len(l) > 0 {
		return ":\n\t" + strings.Join(l, "\n\t")
	}
	return ""
}
