// Command ci-diff is a pull-request gate built on gitopskit (push mode): it renders
// the head revision of a Git repository and diffs it against the cluster, or,
// without a cluster, against the base revision's render, then prints a Markdown
// report fit for a pull-request comment.
//
// Against a cluster (what a merge would change there, three-way, as server-side
// apply sees it):
//
//	ci-diff --repo . --head "$GITHUB_SHA" --path deploy/prod \
//	        --kubeconfig "$KUBECONFIG" --inventory default/gitsync --field-manager gitsync
//
// Without a cluster (what the pull request changes in the rendered objects):
//
//	ci-diff --repo https://git.example.com/team/apps.git --base main --head feature \
//	        --path deploy/prod --json plan.json --fail-on-delete --max-changes 20
//
// --base and --head take what git rev-parse takes: a branch, a tag, a full or
// abbreviated hash, or an expression such as main~3 or HEAD^ (HEAD being the
// remote's default branch); an expression costs a fetch of the history. Without a
// cluster the diffs are labelled base/ and head/.
//
// The head is rendered with render.Auto: plain YAML, kustomize or Helm. Secret
// values are masked everywhere. Exit status: 0 when the diff was computed and the
// policy holds, 1 on a fetch, render or diff error, 2 on a usage error, 3 when a
// policy (--fail-on-delete, --max-changes) fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/render/isolate"
)

// Exit statuses.
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitPolicy = 3
)

func main() {
	if isolate.Child() { // a render child (see render/isolate) answers and ends here
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ci-diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Repo, "repo", "", "Git repository: a local path or a URL (https://, ssh://, file://)")
	fs.StringVar(&o.Base, "base", "", "base revision, compared with the head when there is no cluster: a branch, tag:<name>, a commit hash (full or abbreviated), refs/… or an expression as git rev-parse reads it (main~3, HEAD^)")
	fs.StringVar(&o.Head, "head", "", "head revision to render (same forms as --base)")
	fs.StringVar(&o.Path, "path", ".", "directory of the repository to render (plain YAML, kustomization or Helm chart)")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to diff against; without it, --base is required")
	fs.StringVar(&o.Engine, "engine", "offline", "diff engine against a cluster: offline (OpenAPI schemas, no request per object) or server (dry-run applies)")
	fs.StringVar(&o.FieldManager, "field-manager", apply.DefaultFieldManager, "field manager the deploying tool applies with (the third side of the diff)")
	fs.StringVar(&o.Inventory, "inventory", "", "namespace/name of the Secret that is the ApplySet parent of the deployed set; objects it owns that head drops are shown as deletions")
	fs.StringVar(&o.Namespace, "namespace", "", "namespace for namespaced objects that declare none (with a cluster)")
	fs.StringVar(&o.HelmRelease, "helm-release", "", "release name when the path is a Helm chart (default: the chart's name)")
	fs.StringVar(&o.JSON, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.Policy.FailOnDelete, "fail-on-delete", false, "fail (exit 3) when an object would be deleted")
	fs.IntVar(&o.Policy.MaxChanges, "max-changes", -1, "fail (exit 3) when more objects than this would be created, updated or deleted (negative: no limit)")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "bound on the whole run")
	cache, _ := os.UserCacheDir()
	fs.StringVar(&o.CacheDir, "cache-dir", filepath.Join(cache, "gitopskit", "ci-diff"), "Git cache directory")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return o, o.validate()
}

// run is the program without its process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "ci-diff:", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	rep := compare(ctx, o)
	if err := rep.WriteMarkdown(stdout); err != nil {
		fmt.Fprintln(stderr, "ci-diff: write report:", err)
		return exitError
	}
	if o.JSON != "" {
		if err := writeJSONFile(o.JSON, rep); err != nil {
			fmt.Fprintln(stderr, "ci-diff:", err)
			return exitError
		}
	}
	switch {
	case rep.Error != "" || len(rep.Failed) > 0:
		if rep.Error != "" {
			fmt.Fprintln(stderr, "ci-diff:", rep.Error)
		}
		return exitError
	case len(rep.Violations) > 0:
		for _, v := range rep.Violations {
			fmt.Fprintln(stderr, "ci-diff: policy:", v)
		}
		return exitPolicy
	}
	return exitOK
}

func writeJSONFile(name string, rep *report) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("write JSON report %s: %w", name, err)
	}
	return f.Close()
}
