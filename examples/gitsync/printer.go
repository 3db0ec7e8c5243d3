package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/term"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
)

// printer writes a pass's progress for a person: a line per object that changed
// (with the fields that changed), a status line with a spinner for the stage
// running (on a terminal), and a summary line. On a terminal it uses colour;
// elsewhere (logs, pipes) it writes plain lines. It logs each stage to log too.
type printer struct {
	mu  sync.Mutex
	w   io.Writer
	tty bool
	log logr.Logger

	// The pass in flight.
	stage  reconcile.Stage
	ended  bool // stage has finished
	plan   *diff.Plan
	wrote  bool
	done   int // objects the apply or prune stage finished
	health map[object.ID]health.Status

	waiting    bool
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

// planned records the plan of the pass in flight (the gitsync differ calls it),
// whose field paths the object lines show.
func (p *printer) planned(plan *diff.Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan = plan
}

// event is the reconcile.Options.OnEvent of the agent.
func (p *printer) event(e reconcile.Event) {
	switch e.Kind {
	case reconcile.StageStarted:
		p.stageStarted(e.Stage)
	case reconcile.StageFinished:
		p.stopWait()
		p.mu.Lock()
		p.ended = true
		p.mu.Unlock()
		p.log.V(1).Info("stage finished", "stage", string(e.Stage), "duration", e.Duration.Round(time.Millisecond).String(), "error", e.Err)
	case reconcile.ObjectDone:
		p.mu.Lock()
		p.done++
		p.wrote = p.wrote || (!e.Object.DryRun && e.Object.Action != apply.Unchanged && e.Object.Action != apply.Skipped && e.Object.Action != apply.Failed)
		p.mu.Unlock()
		p.object(e.Object)
	case reconcile.HealthChanged:
		p.mu.Lock()
		if p.health != nil {
			p.health[e.ID] = e.Health
		}
		p.mu.Unlock()
		p.log.V(1).Info("health changed", "object", e.ID.KubectlString(), "health", string(e.Health.Code), "message", e.Health.Message)
		if !e.Health.Code.Done() {
			return
		}
		p.line("  %s %s", p.color(green, pad("healthy", 11)), e.ID.KubectlString())
	}
}

// stageStarted logs the stage and shows it on the status line. The stages that
// write, and a wait for health after them, are logged at V(0): they are the long
// steps of a pass that changes something.
func (p *printer) stageStarted(s reconcile.Stage) {
	p.mu.Lock()
	if s == reconcile.StageSource {
		p.plan, p.wrote = nil, false
	}
	p.stage, p.ended, p.done = s, false, 0
	plan, wrote := counts(p.plan), p.wrote
	p.mu.Unlock()
	p.log.V(1).Info("stage started", "stage", string(s))
	switch {
	case s == reconcile.StageApply:
		p.log.Info("applying", "objects", plan.Create+plan.Update)
	case s == reconcile.StagePrune:
		p.log.Info("pruning", "objects", plan.Delete)
	case s == reconcile.StageHealth && wrote:
		p.log.Info("waiting for health", "objects", plan.None+plan.Create+plan.Update)
	}
	p.startWait()
}

// status is the text of the status line: what the stage in flight does, and how
// far it got.
func (p *printer) status() string {
	switch p.stage {
	case reconcile.StageSource:
		return "fetching"
	case reconcile.StageRender:
		return "rendering"
	case reconcile.StageTransform:
		return "transforming"
	case reconcile.StageDiff:
		return "comparing with the cluster"
	case reconcile.StageApply:
		return fmt.Sprintf("applying: %d of %d", p.done, counts(p.plan).Create+counts(p.plan).Update)
	case reconcile.StagePrune:
		return fmt.Sprintf("pruning: %d of %d", p.done, counts(p.plan).Delete)
	case reconcile.StageHealth:
		done := 0
		for _, s := range p.health {
			if s.Code.Done() {
				done++
			}
		}
		if len(p.health) == 0 {
			return "checking health"
		}
		return fmt.Sprintf("checking health: %d of %d done", done, len(p.health))
	}
	return string(p.stage)
}

func (p *printer) object(o apply.Event) {
	if o.Action == apply.Unchanged {
		return
	}
	c := map[apply.Action]string{apply.Created: green, apply.Configured: yellow, apply.Recreated: yellow,
		apply.Pruned: red, apply.Failed: red, apply.Skipped: dim}[o.Action]
	what := string(o.Action)
	if o.DryRun {
		what += " (dry run)"
	}
	msg := ""
	switch {
	case o.Err != nil:
		msg = ": " + o.Err.Error()
	case o.Reason != "":
		msg = ": " + o.Reason
	case o.Action == apply.Configured || o.Action == apply.Recreated:
		if paths := p.paths(o.ID); len(paths) > 0 {
			msg = " " + p.color(dim, strings.Join(paths, ", "))
		}
	}
	p.line("  %s %s%s", p.color(c, pad(what, 11)), o.ID.KubectlString(), msg)
}

// counts returns the counts of plan, none when there is no plan (yet).
func counts(plan *diff.Plan) diff.Counts {
	if plan == nil {
		return diff.Counts{}
	}
	return plan.Counts
}

// paths returns the fields the plan of the pass in flight changes in id.
func (p *printer) paths(id object.ID) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plan == nil {
		return nil
	}
	for _, c := range p.plan.Changes {
		if c.ID == id {
			return c.Paths
		}
	}
	return nil
}

// startWait shows the status line, with a spinner, on a terminal.
func (p *printer) startWait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearSpinner()
	if p.stopSpin != nil {
		close(p.stopSpin)
		p.stopSpin = nil
	}
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
	p.frame = (p.frame + 1) % len(p.spinFrames)
	fmt.Fprintf(p.w, "\r\x1b[K  %s %s", p.spinFrames[p.frame], p.status())
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

// summary prints the outcome of a pass. A pass interrupted by a shutdown says
// where it stopped and what it had written.
func (p *printer) summary(res *reconcile.Result, err error, interrupted bool) {
	if res == nil {
		res = &reconcile.Result{}
	}
	rev := shortRevision(res.Revision)
	p.unhealthy(res)
	counts := p.counts(res)
	if interrupted {
		p.mu.Lock()
		where := "before"
		if p.stage == reconcile.FailedStage(err) && !p.ended {
			where = "during" // a stage that does not write: source, render, diff or health
		}
		p.mu.Unlock()
		p.line("%s %s %s (%s)", p.color(yellow, "■"), rev, p.color(yellow, fmt.Sprintf("interrupted: stopped %s the %s stage", where, reconcile.FailedStage(err))), counts)
		return
	}
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
			what := map[diff.Action]string{diff.Create: "missing", diff.Update: "out of sync", diff.Delete: "left the set"}[c.Action]
			detail := ""
			if len(c.Paths) > 0 {
				detail = " " + p.color(dim, strings.Join(c.Paths, ", "))
			}
			p.line("  %s %s%s", p.color(yellow, pad(what, 11)), c.ID.KubectlString(), detail)
		}
	}
	state := "synced"
	switch {
	case res.InSync():
		state = "in sync"
	case !res.Wrote:
		state = string(res.NotApplied)
	}
	healthText := ""
	if res.Health.Code != "" {
		hc := green
		if !res.Health.Code.Done() {
			hc = yellow
		}
		healthText = "; " + p.color(hc, res.Health.String())
	}
	render := ""
	if !res.Rendered {
		render = ", render reused"
	}
	p.line("%s %s %s in %s (%s%s%s)", p.color(green, "✓"), rev, state, res.Duration().Round(time.Millisecond), counts, render, healthText)
}

// counts says how many objects the revision declares and what the pass did to
// them, or, when it did not write, found to do: an object to create is missing,
// not drifted. Namespaces --create-namespace made, which the set does not
// declare, are counted apart.
func (p *printer) counts(res *reconcile.Result) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	if len(res.Objects) > 0 {
		n := map[apply.Action]int{}
		extra := 0
		for _, r := range res.Objects {
			if r.Action == apply.Created && res.Plan != nil && !slices.ContainsFunc(res.Plan.Changes, func(c *diff.Change) bool { return c.ID == r.ID }) {
				extra++
				continue
			}
			n[r.Action]++
		}
		dry := ""
		if res.Mode == reconcile.DryRun {
			dry = " (dry run)"
		}
		add(n[apply.Created], "created"+dry)
		add(n[apply.Configured]+n[apply.Recreated], "configured"+dry)
		add(n[apply.Pruned], "pruned"+dry)
		add(n[apply.Skipped], "skipped")
		add(n[apply.Failed], "failed")
		add(extra, "namespace(s) created for them"+dry)
	} else if res.Plan != nil {
		add(res.Plan.Counts.Create, "missing")
		add(res.Plan.Counts.Update, "drifted")
		add(res.Plan.Counts.Delete, "left the set")
	}
	s := fmt.Sprintf("%d objects", res.Desired)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
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
