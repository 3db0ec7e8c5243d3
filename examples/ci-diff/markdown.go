package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/source"
)

// Limits that keep a report within what a forge accepts in one comment (GitHub:
// 65,536 characters).
const (
	maxCommentBytes = 60_000
	maxDiffLines    = 400
	maxSummaryPaths = 3
)

// WriteMarkdown writes the report for a pull-request comment: a heading with the
// revisions, a table of counts, the policy's verdict, then one collapsible diff per
// changed object. Diffs that would make the comment too long are left out and
// counted; the JSON report has them all.
func (r *report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### gitopskit diff of `%s`\n\n", r.Path)
	if r.Error != "" {
		b.WriteString("❌ **The diff could not be computed.**\n\n")
		b.WriteString(fenced("", r.Error))
		return write(w, b.String())
	}
	fmt.Fprintf(&b, "Head %s compared with %s.\n\n", code(short(r.Head.Revision)), r.against())
	b.WriteString("| Create | Update | Delete | Unchanged | Failed |\n|---:|---:|---:|---:|---:|\n")
	c := r.Counts
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d |\n\n", c.Create, c.Update, c.Delete, c.None, c.Failed)
	switch {
	case len(r.Violations) > 0:
		b.WriteString("❌ **Policy failed:**\n\n")
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "- %s\n", v)
		}
		b.WriteString("\n")
	case !c.Changed() && c.Failed == 0:
		b.WriteString("✅ No changes.\n\n")
	default:
		b.WriteString("✅ Policy passed.\n\n")
	}
	for _, f := range r.Failed {
		fmt.Fprintf(&b, "❌ %s: %s\n\n", code(kubectlName(f.ID)), oneLine(f.Error))
	}
	if len(r.Kept) > 0 {
		b.WriteString("Left the set but kept (prune disabled): ")
		for i, id := range r.Kept {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(code(kubectlName(id)))
		}
		b.WriteString(".\n\n")
	}
	var omitted int
	for _, ch := range r.changed() {
		block := details(ch)
		if b.Len()+len(block) > maxCommentBytes {
			omitted++
			continue
		}
		b.WriteString(block)
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "The diffs of %d more object(s) are left out to keep this comment short; the JSON report (`--json`) has them.\n\n", omitted)
	}
	if len(r.Warnings) > 0 {
		b.WriteString("<details><summary>Notes</summary>\n\n")
		for _, n := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", oneLine(n))
		}
		b.WriteString("\n</details>\n")
	}
	return write(w, b.String())
}

// against describes the other side of the comparison.
func (r *report) against() string {
	if r.Base != nil {
		return fmt.Sprintf("base %s (both rendered, no cluster)", code(short(r.Base.Revision)))
	}
	return fmt.Sprintf("the cluster (%s engine)", r.Engine)
}

// details renders one change as a collapsible block.
func details(c change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><b>%s</b> <code>%s</code>", c.Action, html.EscapeString(kubectlName(c.ID)))
	if c.Action == diff.Update && len(c.Paths) > 0 {
		paths := c.Paths
		more := ""
		if len(paths) > maxSummaryPaths {
			more = fmt.Sprintf(" and %d more", len(paths)-maxSummaryPaths)
			paths = paths[:maxSummaryPaths]
		}
		b.WriteString(":")
		for i, p := range paths {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " <code>%s</code>", html.EscapeString(p))
		}
		b.WriteString(more)
	}
	b.WriteString("</summary>\n\n")
	b.WriteString(fenced("diff", truncateLines(c.Diff, maxDiffLines)))
	b.WriteString("\n</details>\n\n")
	return b.String()
}

// fenced puts text in a code block whose fence is longer than any run of
// backticks in it, so a manifest cannot end the block early.
func fenced(lang, text string) string {
	longest, run := 0, 0
	for _, c := range text {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return fence + lang + "\n" + text + fence + "\n"
}

// truncateLines keeps the first n lines of text and says how many it dropped.
func truncateLines(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) <= n+1 {
		return text
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("… %d more lines\n", len(lines)-n-1)
}

// short abbreviates a Flux-format revision's hash to 12 digits for display.
func short(rev string) string {
	r, err := source.ParseRevision(rev)
	if err != nil || len(r.Hash) <= 12 {
		return rev
	}
	r.Hash = r.Hash[:12]
	return r.String()
}

// kubectlName prints an ID of the JSON report ("apps/Deployment/shop/web") as
// kubectl names the object for people ("deployment.apps/web -n shop").
func kubectlName(id string) string {
	if parsed, err := object.ParseID(id); err == nil {
		return parsed.KubectlString()
	}
	return id
}

// code formats s as inline code.
func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

// oneLine keeps a message on one Markdown line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func write(w io.Writer, s string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(s)
	return bw.Flush()
}
