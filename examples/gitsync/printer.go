package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
)

// printer writes a pass's progress for a person: a line per object that changed, a
// spinner while waiting for health (on a terminal), and a summary line. On a
// terminal it uses colour; elsewhere (logs, pipes) it writes plain lines.
type printer struct {
	mu  sync.Mutex
	w   io.Writer
	tty bool

	waiting    bool
	health     map[object.ID]health.Status
	stopSpin   chan struct{}
	spinFrames []string
	frame      int
}

func newPrinter(w io.Writer) *printer {
	p := &printer{w: w, spinFrames: []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" {
		p.tty = true
	}
	return p
}

const (
	green  = "32"
	yellow = "33"
	red    = "31"
	dim    = "2"
	bold   = "1"
)

func (p *printer) color(code, s string) string {
	if !p.tty {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// line prints one line, clearing the spinner first.
func (p *printer) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearSpinner()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *printer) clearSpinner() {
	if p.tty && p.waiting {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// Notef prints a note of the agent or the demo.
func (p *printer) Notef(format string, args ...any) {
	p.line("%s", p.color(bold, fmt.Sprintf(format, args...)))
}

// event is the reconcile.Options.OnEvent of the agent.
func (p *printer) event(e reconcile.Event) {
	switch e.Kind {
	case reconcile.StageStarted:
		if e.Stage == reconcile.StageHealth {
			p.startWait()
		}
	case reconcile.StageFinished:
		if e.Stage == reconcile.StageHealth {
			p.stopWait()
		}
	case reconcile.ObjectDone:
		p.object(e.Object)
	case reconcile.HealthChanged:
		p.mu.Lock()
		if p.health != nil {
			p.health[e.ID] = e.Health
		}
		p.mu.Unlock()
		if !e.Health.Code.Done() {
			return
		}
		p.line("  %s %s", p.color(green, pad("healthy", 11)), e.ID.KubectlString())
	}
}

func (p *printer) object(o reconcile.ObjectResult) {
	if o.Outcome == reconcile.Unchanged {
		return
	}
	c := map[reconcile.Outcome]string{reconcile.Created: green, reconcile.Configured: yellow, reconcile.Recreated: yellow,
		reconcile.Pruned: red, reconcile.Failed: red, reconcile.Skipped: dim}[o.Outcome]
	what := string(o.Outcome)
	if o.DryRun {
		what += " (dry run)"
	}
	msg := ""
	switch {
	case o.Err != nil:
		msg = ": " + o.Err.Error()
	case o.Reason != "":
		msg = ": " + o.Reason
	}
	p.line("  %s %s%s", p.color(c, pad(what, 11)), o.ID.KubectlString(), msg)
}

func (p *printer) startWait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting, p.health = true, map[object.ID]health.Status{}
	if !p.tty {
		return
	}
	p.stopSpin = make(chan struct{})
	stop := p.stopSpin
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.spin()
			}
		}
	}()
}

func (p *printer) spin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.waiting {
		return
	}
	done := 0
	for _, s := range p.health {
		if s.Code.Done() {
			done++
		}
	}
	p.frame = (p.frame + 1) % len(p.spinFrames)
	fmt.Fprintf(p.w, "\r\x1b[K  %s checking health: %d of %d done", p.spinFrames[p.frame], done, len(p.health))
}

func (p *printer) stopWait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearSpinner()
	if p.stopSpin != nil {
		close(p.stopSpin)
		p.stopSpin = nil
	}
	p.waiting = false
}

// summary prints the outcome of a pass.
func (p *printer) summary(res *reconcile.Result, err error) {
	if res == nil {
		res = &reconcile.Result{}
	}
	rev := shortRevision(res.Revision)
	p.unhealthy(res)
	if err != nil {
		healthText := ""
		if res.Health.Code != "" {
			healthText = " (" + res.Health.String() + ")"
		}
		p.line("%s %s %s%s", p.color(red, "✗"), rev, p.color(red, "failed: "+err.Error()), healthText)
		return
	}
	if res.Plan != nil && !res.Wrote {
		for _, c := range res.Plan.Changed() {
			detail := ""
			if len(c.Paths) > 0 {
				detail = " " + p.color(dim, strings.Join(c.Paths, ", "))
			}
			p.line("  %s %s%s", p.color(yellow, pad("out of sync", 11)), c.ID.KubectlString(), detail)
		}
	}
	counts := fmt.Sprintf("%d objects: %d applied, %d pruned, %d drifted", res.Desired, len(res.Applied()), len(res.Pruned()), len(res.Drift))
	state := "synced"
	switch {
	case res.InSync():
		state = "in sync"
	case !res.Wrote:
		state = res.NotApplied
	}
	healthText := ""
	if res.Health.Code != "" {
		hc := green
		if !res.Health.Code.Done() {
			hc = yellow
		}
		healthText = ", " + p.color(hc, res.Health.String())
	}
	render := ""
	if !res.Rendered {
		render = ", render reused"
	}
	p.line("%s %s %s in %s (%s%s%s)", p.color(green, "✓"), rev, state, res.Duration().Round(time.Millisecond), counts, render, healthText)
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// unhealthy prints a line per object of the set that is neither Healthy nor
// Suspended, after every pass that assessed health, in object order.
func (p *printer) unhealthy(res *reconcile.Result) {
	ids := make([]object.ID, 0, len(res.HealthObjects))
	for id, st := range res.HealthObjects {
		if !st.Code.Done() {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, object.Compare)
	for _, id := range ids {
		st := res.HealthObjects[id]
		p.line("  %s %s %s", p.color(yellow, pad(strings.ToLower(string(st.Code)), 11)), id.KubectlString(), p.color(dim, st.Message))
	}
}

// shortRevision abbreviates the hash of "main@sha1:<40 hex>" to 12 digits.
func shortRevision(rev string) string {
	i := strings.LastIndexByte(rev, ':')
	if i < 0 || len(rev)-i-1 <= 12 {
		return rev
	}
	return rev[:i+13]
}
