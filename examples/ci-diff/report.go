package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gitopskit/gitopskit/diff"
)

// report is the outcome of a run, written as Markdown for a pull-request comment
// and as JSON for other tools. Secret values in it are masked.
type report struct {
	Path string `json:"path"`
	// Against is "cluster" or "base".
	Against string    `json:"against,omitempty"`
	Engine  string    `json:"engine,omitempty"`
	Head    revision  `json:"head"`
	Base    *revision `json:"base,omitempty"`
	// Counts total the changes by action.
	Counts  diff.Counts `json:"counts"`
	Changes []change    `json:"changes"`
	Failed  []failure   `json:"failed,omitempty"`
	// Kept are objects that left the set but are annotated to be kept on prune.
	Kept     []string `json:"kept,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Violations are the policy failures.
	Violations []string `json:"violations,omitempty"`
	// Error is set when the run could not compute a diff.
	Error string `json:"error,omitempty"`
}

// revision is a requested ref and the revision it resolved to.
type revision struct {
	Ref      string `json:"ref"`
	Revision string `json:"revision,omitempty"`
}

// change is one object's diff, as diff.Plan.WriteJSON writes it.
type change struct {
	ID       string      `json:"id"`
	Action   diff.Action `json:"action"`
	Paths    []string    `json:"paths,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
	Diff     string      `json:"diff,omitempty"`
}

// failure is an object that could not be diffed.
type failure struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// addPlan records the plan's changes. It goes through the plan's JSON form, the one
// rendering of a plan with a diff per object and Secret values masked.
func (r *report) addPlan(p *diff.Plan) error {
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		return err
	}
	var doc struct {
		Counts  diff.Counts `json:"counts"`
		Changes []change    `json:"changes"`
		Failed  []failure   `json:"failed"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	r.Counts, r.Failed = doc.Counts, doc.Failed
	r.Changes = doc.Changes
	for _, c := range doc.Changes {
		for _, w := range c.Warnings {
			if !slices.Contains(r.Warnings, w) {
				r.Warnings = append(r.Warnings, w)
			}
		}
	}
	return nil
}

// relabel names the two sides of every diff from and to instead of the plan's
// "live/" and "predicted/", which say cluster where there is none.
func (r *report) relabel(from, to string) {
	for i, c := range r.Changes {
		head, rest, _ := strings.Cut(c.Diff, "\n")
		second, rest, _ := strings.Cut(rest, "\n")
		if a, ok := strings.CutPrefix(head, "--- live/"); ok {
			if b, ok := strings.CutPrefix(second, "+++ predicted/"); ok {
				r.Changes[i].Diff = "--- " + from + a + "\n+++ " + to + b + "\n" + rest
			}
		}
	}
}

// changed returns the changes that create, update or delete.
func (r *report) changed() []change {
	var out []change
	for _, c := range r.Changes {
		if c.Action != diff.None {
			out = append(out, c)
		}
	}
	return out
}

// WriteJSON writes the report as an indented JSON document.
func (r *report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// policy is what a pull request may change.
type policy struct {
	// FailOnDelete fails when any object would be deleted.
	FailOnDelete bool
	// MaxChanges fails when more objects would be created, updated or deleted;
	// negative means no limit.
	MaxChanges int
}

// check returns the policy's failures for counts.
func (p policy) check(c diff.Counts) []string {
	var out []string
	if p.FailOnDelete && c.Delete > 0 {
		out = append(out, fmt.Sprintf("%d object(s) would be deleted (--fail-on-delete)", c.Delete))
	}
	if n := c.Create + c.Update + c.Delete; p.MaxChanges >= 0 && n > p.MaxChanges {
		out = append(out, fmt.Sprintf("%d objects would change, more than %d (--max-changes)", n, p.MaxChanges))
	}
	return out
}
