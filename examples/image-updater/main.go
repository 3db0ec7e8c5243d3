// Command image-updater is a config updater built from gitopskit's update package:
// on an interval it scans the registries named by a policy file, writes the newest
// images into a Git repository's manifests and pushes a commit that lists each
// change. An agent watching the repository then deploys the commit.
//
//	image-updater -repo https://git.example.com/shop/config.git -branch main \
//	  -path deploy -policies policies.yaml -interval 5m
//
// The policy file holds Flux-shaped policies:
//
//	policies:
//	  - name: shop:app
//	    image: ghcr.io/shop/app
//	    semver: {range: "^1"}
//	    digest: true
//	  - name: shop:worker
//	    image: ghcr.io/shop/worker
//	    numerical: {order: asc}
//	    filterTags: {pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts'}
//
// Credentials come from the environment so they stay out of process listings:
// GIT_USERNAME and GIT_PASSWORD (or GIT_TOKEN) for the repository, REGISTRY_USERNAME
// and REGISTRY_PASSWORD (or REGISTRY_TOKEN) for the registries.
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

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/update"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "image-updater:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	repo, branch, path, policies, cacheDir, registryCA string
	authorName, authorEmail                            string
	interval, timeout                                  time.Duration
	once                                               bool
	verbosity                                          int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("image-updater", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.repo, "repo", "", "Git repository URL (required)")
	fs.StringVar(&c.branch, "branch", "main", "branch to read and push to")
	fs.StringVar(&c.path, "path", "", "directory of the repository whose YAML files are updated (default: all)")
	fs.StringVar(&c.policies, "policies", "policies.yaml", "policy file")
	fs.StringVar(&c.cacheDir, "cache-dir", filepath.Join(os.TempDir(), "image-updater"), "Git cache directory")
	fs.StringVar(&c.registryCA, "registry-ca", "", "PEM file of extra CAs trusted for registries")
	fs.StringVar(&c.authorName, "author-name", "image-updater", "commit author name")
	fs.StringVar(&c.authorEmail, "author-email", "image-updater@localhost", "commit author email")
	fs.DurationVar(&c.interval, "interval", 5*time.Minute, "time between passes")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "bound on one pass")
	fs.BoolVar(&c.once, "once", false, "run one pass and exit")
	fs.IntVar(&c.verbosity, "v", 0, "log verbosity")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.repo == "" {
		return c, errors.New("-repo is required")
	}
	if c.interval <= 0 {
		return c, errors.New("-interval must be positive")
	}
	return c, nil
}

// policyFile is the policy file's shape.
type policyFile struct {
	Policies []update.Policy `json:"policies"`
}

func loadPolicies(path string) ([]update.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f policyFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Policies) == 0 {
		return nil, fmt.Errorf("%s: no policies", path)
	}
	for _, p := range f.Policies {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return f.Policies, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(stderr, prefix, args) }, funcr.Options{Verbosity: c.verbosity})
	opts, err := options(c, getenv, log)
	if err != nil {
		return err
	}
	for {
		pass(ctx, c.timeout, opts, log)
		if c.once {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.interval):
		}
	}
}

// options builds the update options; the policy file is read once at start.
func options(c config, getenv func(string) string, log logr.Logger) (update.Options, error) {
	policies, err := loadPolicies(c.policies)
	if err != nil {
		return update.Options{}, err
	}
	reg := &update.Registry{
		Auth:   update.RegistryAuth{Username: getenv("REGISTRY_USERNAME"), Password: getenv("REGISTRY_PASSWORD"), BearerToken: getenv("REGISTRY_TOKEN")},
		Logger: log,
	}
	if c.registryCA != "" {
		if reg.CABundle, err = os.ReadFile(c.registryCA); err != nil {
			return update.Options{}, err
		}
	}
	repo, err := git.New(git.Options{
		URL:      c.repo,
		Ref:      git.Ref{Branch: c.branch},
		CacheDir: c.cacheDir,
		Auth:     git.Auth{Username: getenv("GIT_USERNAME"), Password: getenv("GIT_PASSWORD"), BearerToken: getenv("GIT_TOKEN")},
		Logger:   log,
	})
	if err != nil {
		return update.Options{}, err
	}
	return update.Options{
		Policies:   policies,
		Registry:   reg,
		Repository: repo,
		Path:       c.path,
		Author:     source.Signature{Name: c.authorName, Email: c.authorEmail},
		Logger:     log,
	}, nil
}

// pass runs one update and logs its outcome; a failed pass is retried at the next
// interval rather than ending the program.
func pass(ctx context.Context, timeout time.Duration, opts update.Options, log logr.Logger) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := update.Run(ctx, opts)
	switch {
	case err != nil:
		log.Error(err, "update failed")
	case res.Pushed:
		for _, e := range res.Edits {
			log.Info("updated", "file", e.File, "line", e.Line, "policy", e.Policy, "old", e.Old, "new", e.New)
		}
		log.Info("pushed", "revision", res.Revision, "attempts", res.Attempts)
	default:
		log.Info("up to date", "revision", res.Revision)
	}
}
