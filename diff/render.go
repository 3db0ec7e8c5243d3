package diff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TextOptions configures [Plan.WriteText].
type TextOptions struct {
	// Color marks removed lines red and added lines green with ANSI escapes.
	Color bool
	// Context is the number of unchanged lines around each change; 0 means 3.
	Context int
	// All includes objects without changes, as a one-line note each.
	All bool
}

const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
	ansiReset = "\x1b[0m"
)

// WriteText writes the plan as unified diffs of the objects' YAML, like kubectl
// diff: for each object that changes, "--- live/<id>" and "+++ predicted/<id>"
// headers and hunks, in the plan's order. Secret values are masked.
func (p *Plan) WriteText(w io.Writer, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	for _, c := range p.Changes {
		if !c.Changed() {
			switch {
			case opts.All && c.Reason != "":
				fmt.Fprintf(bw, "# %s: skipped: %s\n", c.ID, c.Reason)
			case opts.All:
				fmt.Fprintf(bw, "# %s: unchanged\n", c.ID)
			}
			continue
		}
		text, err := p.unified(c, opts)
		if err != nil {
			return err
		}
		bw.WriteString(text)
	}
	for _, f := range p.Failed {
		fmt.Fprintf(bw, "# %s\n", f.Error())
	}
	return bw.Flush()
}

// unified renders one change.
func (p *Plan) unified(c *Change, opts TextOptions) (string, error) {
	before, err := p.yaml(c.Live)
	if err != nil {
		return "", fmt.Errorf("render %s: %w", c.ID, err)
	}
	after, err := p.yaml(c.Predicted)
	if err != nil {
		return "", fmt.Errorf("render %s: %w", c.ID, err)
	}
	n := opts.Context
	if n <= 0 {
		n = 3
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(before), B: lines(after),
		FromFile: "live/" + c.ID.String(), ToFile: "predicted/" + c.ID.String(), Context: n,
	})
	if err != nil {
		return "", fmt.Errorf("render %s: %w", c.ID, err)
	}
	if text == "" {
		// A foreign-only change: the objects render the same.
		text = fmt.Sprintf("--- live/%s\n+++ predicted/%s\n", c.ID, c.ID)
	}
	if c.Recreate {
		text += "# an apply deletes and recreates it: an immutable field changes\n"
	}
	if p.reportForeign {
		for _, f := range c.Foreign {
			text += "# owned by another manager: " + f + "\n"
		}
	}
	if !opts.Color {
		return text, nil
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"), line == "":
			b.WriteString(line)
		case strings.HasPrefix(line, "+"):
			b.WriteString(ansiGreen + strings.TrimSuffix(line, "\n") + ansiReset + "\n")
		case strings.HasPrefix(line, "-"):
			b.WriteString(ansiRed + strings.TrimSuffix(line, "\n") + ansiReset + "\n")
		case strings.HasPrefix(line, "@@"):
			b.WriteString(ansiCyan + strings.TrimSuffix(line, "\n") + ansiReset + "\n")
		default:
			b.WriteString(line)
		}
	}
	return b.String(), nil
}

// lines splits text into lines for the diff, each ending in a line break. No text
// is no line (a created or deleted object's other side), and the break that ends
// the text does not start another, empty line.
func lines(text string) []string {
	if text == "" {
		return nil
	}
	l := strings.SplitAfter(text, "\n")
	if l[len(l)-1] == "" {
		return l[:len(l)-1]
	}
	l[len(l)-1] += "\n"
	return l
}

func (p *Plan) yaml(u *unstructured.Unstructured) (string, error) {
	if u == nil {
		return "", nil
	}
	b, err := yaml.Marshal(p.masker.object(u).Object)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// jsonPlan is the JSON form of a Plan.
type jsonPlan struct {
	Counts  Counts       `json:"counts"`
	Changes []jsonChange `json:"changes"`
	Failed  []jsonFailed `json:"failed,omitempty"`
}

type jsonChange struct {
	ID       string   `json:"id"`
	Group    string   `json:"group"`
	Kind     string   `json:"kind"`
	Ns       string   `json:"namespace,omitempty"`
	Name     string   `json:"name"`
	Action   Action   `json:"action"`
	Recreate bool     `json:"recreate,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	Foreign  []string `json:"foreign,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Typing   Typing   `json:"typing,omitempty"`
	Diff     string   `json:"diff,omitempty"`
}

type jsonFailed struct {
	ID     string `json:"id"`
	Origin string `json:"origin,omitempty"`
	Error  string `json:"error"`
}

// WriteJSON writes the plan as one JSON document for CI tools: counts, then every
// change with its action, paths and unified diff (Secret values masked), then the
// failures.
func (p *Plan) WriteJSON(w io.Writer) error {
	out := jsonPlan{Counts: p.Counts, Changes: []jsonChange{}}
	for _, c := range p.Changes {
		jc := jsonChange{
			ID: c.ID.String(), Group: c.ID.Group, Kind: c.ID.Kind, Ns: c.ID.Namespace, Name: c.ID.Name,
			Action: c.Action, Recreate: c.Recreate, Reason: c.Reason, Paths: c.Paths, Foreign: c.Foreign, Warnings: c.Warnings, Typing: c.Typing,
		}
		if c.Changed() {
			d, err := p.unified(c, TextOptions{})
			if err != nil {
				return err
			}
			jc.Diff = d
		}
		out.Changes = append(out.Changes, jc)
	}
	for _, f := range p.Failed {
		jf := jsonFailed{ID: f.ID.String(), Error: f.Err.Error()}
		if f.Origin.File != "" {
			jf.Origin = f.Origin.String()
		}
		out.Failed = append(out.Failed, jf)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
