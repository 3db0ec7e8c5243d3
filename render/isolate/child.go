package isolate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"syscall"

	"github.com/gitopskit/gitopskit/render"
)

// The marks of a child: the first argument, which a program that parses its
// flags and lacks the hook refuses at once (flag: "flag provided but not
// defined"), and the nonce in the environment, which the child echoes.
const (
	childArg = "-gitopskit.render-child"
	envNonce = "GITOPSKIT_RENDER_CHILD"
	// handshakePrefix starts the child's first line, followed by the nonce.
	handshakePrefix = "gitopskit-render-child "
)

// Child runs the render a parent [Renderer] asked for and returns true when this
// process was started as a render child; otherwise it does nothing and returns
// false. A program that renders with a [Renderer] calls it first thing in main
// (and a test binary in TestMain), and returns at once when it reports true:
//
//	func main() {
//		if isolate.Child() {
//			return
//		}
//		...
//	}
//
// Nothing else of the program runs in the child, so flags, logging and signal
// handling set up in main are not needed there. The child reads its request on
// standard input and writes its result on standard output; it does not exit
// itself.
func Child() bool {
	if len(os.Args) != 2 || os.Args[1] != childArg {
		return false
	}
	nonce := os.Getenv(envNonce)
	if nonce == "" {
		return false
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	// Standard output carries the answer: what a library would print there goes
	// to standard error instead.
	os.Stdout = os.Stderr
	fmt.Fprintf(out, "%s%s\n", handshakePrefix, nonce)
	if err := out.Flush(); err != nil {
		return true
	}
	resp := serve(os.Stdin)
	// Errors writing mean the parent is gone or stopped reading: nothing to tell.
	_ = json.NewEncoder(out).Encode(resp)
	return true
}

// serve reads a request from in, renders it and returns the response.
func serve(in io.Reader) *response {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return &response{Error: toWire(fmt.Errorf("read request: %w", err))}
	}
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return &response{Error: toWire(fmt.Errorf("read request: %w", err))}
	}
	if err := setLimits(req.Memory, req.CPU.Seconds()); err != nil {
		return &response{Error: toWire(fmt.Errorf("set limits: %w", err))}
	}
	in2 := render.Input{Dir: req.Dir}
	if req.Root != "" {
		in2.FS, err = openRoot(&req)
	} else {
		in2.FS, err = readTar(r, req.Input)
	}
	if err != nil {
		return &response{Error: toWire(fmt.Errorf("read input: %w", err))}
	}
	res, err := req.Spec.InProcess().Render(context.Background(), in2, req.Options)
	if err != nil {
		return &response{Error: toWire(err)}
	}
	resp, err := encodeResult(res)
	if err != nil {
		return &response{Error: toWire(err)}
	}
	return resp
}

// setLimits bounds this process: its data memory (the Go heap, which aims below
// it) and its CPU time, after which the kernel kills it.
func setLimits(memory int64, cpu float64) error {
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: uint64(memory), Max: uint64(memory)}); err != nil {
		return fmt.Errorf("RLIMIT_DATA: %w", err)
	}
	debug.SetMemoryLimit(memory / 8 * 7)
	// A goroutine's stack is memory too: without this bound, a template that
	// calls itself grows one up to Go's 1 GB before failing.
	debug.SetMaxStack(int(min(memory/4, 1<<30)))
	secs := uint64(cpu)
	if float64(secs) < cpu {
		secs++
	}
	// Soft and hard limits are equal so that the kernel sends SIGKILL, which Go
	// cannot ignore, rather than SIGXCPU, which it does ignore.
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &syscall.Rlimit{Cur: secs, Max: secs}); err != nil {
		return fmt.Errorf("RLIMIT_CPU: %w", err)
	}
	return nil
}
