// Package capture collects what the kustomize and Helm libraries print, to the
// standard logger and to os.Stderr, during a render, so that it reaches the
// render's warnings and the caller's logr.Logger instead of the process's output:
// a library does not print. Both are process-wide, so the capture is kept to
// the render that asked for it: lines another goroutine prints in the meantime go
// where they went before.
//
// It can go when the libraries take a writer or a logger for these messages
// (kubernetes-sigs/kustomize#5452 for kustomize's deprecation warnings; Helm 4
// logs through slog).
package capture

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Lines collects the lines a Log or Stderr capture received.
type Lines struct {
	mu    sync.Mutex
	lines []string
}

func (l *Lines) add(s string) {
	if s = strings.TrimSpace(s); s == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

// Get returns the lines received so far.
func (l *Lines) Get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// The standard logger's output while captures run: lines from a goroutine with a
// capture go to its Lines, others to the writer the logger had before. router's
// Write runs under the logger's lock, so it takes no lock of its own (logMu is
// taken before the logger's, by Log).
var (
	logMu   sync.Mutex   // guards logN and the logger's writer
	logN    int          // captures running
	logTo   sync.Map     // goroutine ID → *Lines
	logPrev atomic.Value // of writer: the logger's writer before the first capture
)

type writer struct{ io.Writer }

// Log runs fn and returns what fn's goroutine printed with the standard logger
// (log.Printf and slog's default logger), without the logger's prefix, date and
// time, one message a line, each message once. fn must print from the goroutine
// Log runs on, as the Helm and kustomize libraries do. Safe for concurrent use.
func Log(fn func()) []string {
	id := goroutine()
	lines := &Lines{}
	logMu.Lock()
	if logN == 0 || log.Writer() != (router{}) {
		logPrev.Store(writer{log.Writer()})
		log.SetOutput(router{})
	}
	logN++
	logTo.Store(id, lines)
	logMu.Unlock()
	defer func() {
		logMu.Lock()
		defer logMu.Unlock()
		logTo.Delete(id)
		if logN--; logN == 0 && log.Writer() == (router{}) {
			log.SetOutput(logPrev.Load().(writer).Writer)
		}
	}()
	fn()
	var out []string
	for _, l := range lines.Get() {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// router is the standard logger's writer during captures.
type router struct{}

func (router) Write(p []byte) (int, error) {
	v, ok := logTo.Load(goroutine())
	if !ok {
		return logPrev.Load().(writer).Write(p)
	}
	for _, l := range strings.Split(string(p), "\n") {
		v.(*Lines).add(message(l))
	}
	return len(p), nil
}

// message removes what the standard logger adds before a message (see log.Flags).
func message(line string) string {
	flags, prefix := log.Flags(), log.Prefix()
	if flags&log.Lmsgprefix == 0 {
		line = strings.TrimPrefix(line, prefix)
	}
	if flags&log.Ldate != 0 && len(line) >= 11 {
		line = line[11:] // "2009/01/23 "
	}
	if flags&(log.Ltime|log.Lmicroseconds) != 0 {
		n := len("01:23:23 ")
		if flags&log.Lmicroseconds != 0 {
			n = len("01:23:23.123123 ")
		}
		line = line[min(n, len(line)):]
	}
	if flags&(log.Lshortfile|log.Llongfile) != 0 {
		if _, rest, ok := strings.Cut(line, ": "); ok {
			line = rest
		}
	}
	return strings.TrimPrefix(line, prefix)
}

// goroutine returns the ID of the calling goroutine, which the runtime prints
// first in a stack trace ("goroutine 7 [running]:"). Go gives no other way to
// tell which goroutine a library's log line comes from.
func goroutine() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// stderrMu serialises Stderr captures: os.Stderr is one variable.
var stderrMu sync.Mutex

// Stderr is a capture of os.Stderr, which kustomize writes its deprecation
// warnings to. Start it when the render is about to make kustomize print (os.Stderr
// is swapped only then), and Stop it at the end of the render.
type Stderr struct {
	on    bool
	prev  *os.File
	w     *os.File
	done  chan struct{}
	lines Lines
	// keep says which lines are the render's; others are written to the previous
	// os.Stderr when the capture stops.
	keep  func(string) bool
	other []string
}

// NewStderr returns a capture of os.Stderr that keeps the lines keep accepts.
func NewStderr(keep func(line string) bool) *Stderr { return &Stderr{keep: keep} }

// Start points os.Stderr at a pipe the capture reads, once; later calls do
// nothing. The caller must keep other renders from capturing at the same time.
// When no pipe can be made, nothing is captured.
func (c *Stderr) Start() {
	if c.on {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	stderrMu.Lock()
	c.on, c.prev, c.w, c.done = true, os.Stderr, w, make(chan struct{})
	os.Stderr = w
	go func() {
		defer close(c.done)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if line := sc.Text(); c.keep(line) {
				c.lines.add(line)
			} else {
				c.other = append(c.other, line)
			}
		}
		_, _ = io.Copy(io.Discard, r) // a line longer than the scanner's buffer
	}()
}

// Stop puts os.Stderr back, writes the lines that were not the render's to it, and
// returns the render's lines.
func (c *Stderr) Stop() []string {
	if !c.on {
		return nil
	}
	os.Stderr = c.prev
	stderrMu.Unlock()
	c.w.Close()
	<-c.done
	c.on = false
	for _, l := range c.other {
		_, _ = io.WriteString(c.prev, l+"\n")
	}
	return c.lines.Get()
}
