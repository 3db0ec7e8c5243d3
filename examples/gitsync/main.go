// Command gitsync is a pull-mode GitOps agent built on gitopskit: it keeps a
// cluster equal to a directory of a Git repository.
//
//	gitsync --repo https://git.example.com/team/apps.git --ref main --path prod \
//	        --interval 1m --prune
//
// By default it applies each new revision (--mode apply) and does not take fields
// another field manager owns: a manual edit stays until the next commit, and a
// field someone else changed fails the apply with a conflict that names it. Ask
// for more, as Argo CD's selfHeal and Flux's force are asked for: --mode self-heal
// re-applies whenever the cluster drifts, and --force takes the fields other
// managers changed (which reverting a `kubectl edit` needs).
//
// It reconciles at start, on every --interval, and when something POSTs to /hook
// (a forge's push webhook; with --webhook-secret-file, only a request signed with
// the secret as GitHub and Gitea sign, or carrying it as GitLab's token, is
// heard); it serves Prometheus metrics on /metrics and probes on /healthz and
// /readyz. In a pod it uses the pod's service account. With --decryption-keys
// (a file or a mounted Secret of *.agekey and *.asc keys, as Flux's
// decryption.secretRef), SOPS-encrypted files are decrypted as they are
// rendered (see render/sops).
//
// Run without --repo and without --kubeconfig, outside a pod, it shows the whole
// loop on this machine: it starts a local cluster (clustertest, whose binaries
// `go run ./clustertest/setup` builds), serves a bundled example repository over
// smart HTTP on loopback, and walks through a sync, a commit, a manual edit that
// gets self-healed (the demo asks for --mode self-heal --force), and a removed
// file that gets pruned:
//
//	go run -C examples ./gitsync
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git"
)

// config is the command line.
type config struct {
	repo, ref, path, kubeconfig, kubeContext, mode, listen, inventory, namespace, cacheDir, fieldManager, webhookSecretFile string
	logFormat, decryptionKeys                                                                                               string
	verbosity                                                                                                               int
	interval, healthTimeout                                                                                                 time.Duration
	prune, force, once, createNamespace, version                                                                            bool
	credentials
}

func main() {
	if isolate.Child() { // a render child (see render/isolate) answers and ends here
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// description is the paragraph --help prints before the flags.
const description = `gitsync keeps a Kubernetes cluster equal to a directory of a Git repository.
It fetches --repo at --ref, renders --path (plain YAML, kustomizations and Helm
charts, each directory with its own renderer), diffs it with the cluster as
server-side apply sees it, applies what changed, prunes what left the set (with
--prune) and waits for the set to become healthy: at start, every --interval, and
on a POST to /hook. With --once it runs one pass and exits non-zero when the pass
fails or leaves the set unhealthy. Without --repo, outside a pod, it runs a demo
on a local cluster.`

// flagSet returns the command line's flags, bound to c.
func flagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("gitsync", flag.ContinueOnError)
	// Errors are printed once, by run; help goes to stdout.
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.repo, "repo", "", "Git repository URL (https://, ssh://, file://); without it and without --kubeconfig, run the demo")
	fs.StringVar(&c.ref, "ref", "", "what to follow: a branch, tag:<name>, semver:<range>, commit:<sha> or refs/…; default: the default branch")
	fs.StringVar(&c.path, "path", ".", "directory of the repository to deploy (plain YAML, kustomization or Helm chart; a plain directory's charts and kustomizations are rendered each with its renderer)")
	fs.DurationVar(&c.interval, "interval", time.Minute, "time between passes")
	fs.BoolVar(&c.prune, "prune", false, "delete objects whose files were removed")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file; default: in-cluster config in a pod, else $KUBECONFIG or ~/.kube/config")
	fs.StringVar(&c.kubeContext, "context", "", "kubeconfig context to use (default: the current context)")
	fs.StringVar(&c.mode, "mode", "apply", "apply (each new revision), self-heal (also revert drift), drift-only or dry-run")
	listen := "127.0.0.1:8080"
	if inPod() {
		listen = ":8080" // reachable by the forge's webhook and Prometheus through a Service
	}
	fs.StringVar(&c.listen, "listen", listen, "address of /hook, /metrics, /healthz and /readyz (empty: none); default :8080 in a pod, loopback elsewhere")
	fs.StringVar(&c.webhookSecretFile, "webhook-secret-file", "", "file holding the secret a POST /hook must prove: GitHub's X-Hub-Signature-256 or GitLab's X-Gitlab-Token (empty: any POST triggers a pass)")
	fs.StringVar(&c.username, "username", "", "HTTP basic auth user name (default: $"+envUsername+")")
	fs.StringVar(&c.passwordFile, "password-file", "", "file holding the HTTP basic auth password or token (default: $"+envPassword+")")
	fs.StringVar(&c.bearerTokenFile, "bearer-token-file", "", "file holding a token sent as an HTTP bearer token")
	fs.StringVar(&c.sshKeyFile, "ssh-key-file", "", "file holding the SSH private key (PEM) for ssh:// and scp-like URLs")
	fs.StringVar(&c.knownHostsFile, "known-hosts-file", "", "known_hosts file the SSH server's host key must match (required for SSH)")
	fs.StringVar(&c.decryptionKeys, "decryption-keys", "", "file, or directory such as a mounted Secret, of SOPS decryption keys: *.agekey (age identities) and *.asc (armored OpenPGP private keys), as Flux's decryption.secretRef holds them; SOPS-encrypted files are then decrypted as they are rendered")
	fs.StringVar(&c.inventory, "inventory", "default/gitsync", "namespace/name of the Secret recording the applied set (an ApplySet parent)")
	fs.StringVar(&c.namespace, "namespace", "", "namespace for namespaced objects that declare none")
	fs.BoolVar(&c.createNamespace, "create-namespace", false, "create the namespaces the objects and the --inventory Secret use when they are missing and not in the repository (never pruned)")
	fs.StringVar(&c.fieldManager, "field-manager", "gitsync", "server-side apply field manager")
	fs.BoolVar(&c.force, "force", false, "take fields other field managers own instead of failing with a conflict (self-heal needs it to revert a manual edit)")
	fs.DurationVar(&c.healthTimeout, "health-timeout", 5*time.Minute, "how long to wait for the set to become healthy after a change")
	fs.BoolVar(&c.once, "once", false, "run one pass and exit: non-zero when it fails or, in modes apply and self-heal, leaves the set neither Healthy nor Suspended")
	fs.IntVar(&c.verbosity, "v", 0, "log verbosity: 1 logs every stage of a pass, 2 and more the libraries' details")
	fs.StringVar(&c.logFormat, "log-format", "text", "format of the logs on stderr: text or json")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	cache, _ := os.UserCacheDir()
	fs.StringVar(&c.cacheDir, "cache-dir", filepath.Join(cache, "gitopskit", "gitsync"), "Git cache directory")
	return fs
}

// parseFlags reads the command line. It returns flag.ErrHelp for -h and --help.
func parseFlags(args []string) (config, error) {
	var c config
	fs := flagSet(&c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case c.interval <= 0:
		return c, errors.New("--interval must be positive")
	case c.logFormat != "text" && c.logFormat != "json":
		return c, fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	case c.verbosity < 0:
		return c, errors.New("-v must not be negative")
	}
	return c, nil
}

// usage writes the help: the description and the flags, kubectl-style.
func usage(w io.Writer) {
	var c config
	fs := flagSet(&c)
	fmt.Fprintf(w, "%s\n\nUsage:\n  gitsync --repo URL [flags]\n\nFlags:\n", description)
	fs.VisitAll(func(f *flag.Flag) {
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-"
		}
		name, text := flag.UnquoteUsage(f)
		line := "  " + dashes + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n      %s", line, text)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// version returns the module version the binary was built from, as the Go
// toolchain recorded it, with the commit when it was built from a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v + ", " + info.GoVersion
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gitsync: %v\nRun 'gitsync --help' for usage.\n", err)
		return 2
	}
	if c.version {
		fmt.Fprintln(stdout, "gitsync", version())
		return 0
	}
	log := newLogger(stderr, c.logFormat, c.verbosity)
	out := newPrinter(stdout)
	out.log = log
	if c.repo == "" {
		if c.kubeconfig != "" || c.kubeContext != "" || inPod() {
			fmt.Fprintln(stderr, "gitsync: --repo is required")
			return 2
		}
		if err := runDemo(ctx, out, demoOptions{}); err != nil {
			if errors.Is(err, clustertest.ErrBinariesMissing) {
				fmt.Fprintln(stderr, "gitsync: the demo needs a local control plane:", err)
			} else {
				fmt.Fprintln(stderr, "gitsync demo:", err)
			}
			return 1
		}
		return 0
	}
	cfg, err := restConfig(c.kubeconfig, c.kubeContext)
	if err != nil {
		fmt.Fprintln(stderr, "gitsync:", err)
		return 1
	}
	// client-go's default of 5 requests a second throttles a pass over a few dozen
	// objects (and logs each wait over a second); kubectl allows 50.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	if err := serve(ctx, c, cfg, out); err != nil {
		fmt.Fprintln(stderr, "gitsync:", err)
		if !c.createNamespace && strings.Contains(err.Error(), "CreateNamespace") {
			fmt.Fprintln(stderr, "gitsync: hint: --create-namespace creates the missing namespaces")
		}
		if errors.Is(err, git.ErrKnownHostsRequired) {
			fmt.Fprintln(stderr, "gitsync: hint: give the SSH server's host key with --known-hosts-file (ssh-keyscan prints it; check it out of band)")
		}
		return 1
	}
	return 0
}

// newLogger returns the logger of the program: slog's text or JSON handler on w,
// showing V(n) for n up to verbosity.
func newLogger(w io.Writer, format string, verbosity int) logr.Logger {
	opts := &slog.HandlerOptions{Level: slog.Level(-verbosity)}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return logr.FromSlogHandler(h)
}

// serve runs the agent until ctx is done, or one pass with --once. When ctx is
// done (SIGTERM, SIGINT), the pass in flight stops at the next stage, an apply or
// prune in flight finishes first, and the HTTP server shuts down gracefully.
func serve(ctx context.Context, c config, cfg *rest.Config, out *printer) error {
	if urlPassword(c.repo) {
		out.Notef("gitsync: warning: the --repo URL carries a password, which `ps` and the shell's history show to others: use --password-file or $%s", envPassword)
	}
	rec, drift, err := newReconciler(cfg, c, out)
	if err != nil {
		return err
	}
	a := newAgent(out, newMetrics())
	a.rec, a.drift = rec, drift
	if c.webhookSecretFile != "" {
		if a.hookSecret, err = hookSecret(c.webhookSecretFile); err != nil {
			return err
		}
	}
	if c.once {
		res, err := a.pass(ctx)
		if err != nil {
			return err
		}
		return healthy(res, c.mode)
	}
	var srv *http.Server
	if c.listen != "" {
		l, err := net.Listen("tcp", c.listen)
		if err != nil {
			return err
		}
		srv = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		out.Notef("gitsync: serving /hook, /metrics, /healthz and /readyz on http://%s", l.Addr())
		if a.hookSecret == nil && !isLoopback(l.Addr()) {
			out.Notef("gitsync: warning: /hook is not on loopback and has no --webhook-secret-file: anyone who reaches it can trigger passes")
		}
	}
	out.Notef("gitsync: syncing %s (ref %q, path %s) every %s, mode %s, prune %v, force %v", git.RedactURL(c.repo), c.ref, c.path, c.interval, c.mode, c.prune, c.force)
	if c.mode == "self-heal" && !c.force {
		out.Notef("gitsync: note: self-heal without --force fails with a conflict on fields another manager (a manual edit) changed")
	}
	served := make(chan struct{})
	defer close(served)
	go func() {
		select {
		case <-ctx.Done():
			out.Notef("gitsync: %v: shutting down; a pass in flight stops at its next stage, after the apply or prune in flight (again to stop at once)", context.Cause(ctx))
			// A second signal takes the default action: the process ends.
			signal.Reset(os.Interrupt, syscall.SIGTERM)
		case <-served:
		}
	}()
	a.loop(ctx, c.interval)
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down the HTTP server: %w", err)
		}
	}
	out.Notef("gitsync: stopped")
	return nil
}

// shutdownTimeout bounds the wait for the HTTP requests in flight on shutdown.
const shutdownTimeout = 10 * time.Second

// healthy returns an error when a pass of a mode that writes left the set neither
// Healthy nor Suspended: what `--once` in a pipeline must not call a success.
func healthy(res *reconcile.Result, mode string) error {
	if mode == "dry-run" || mode == "drift-only" || res == nil || res.Health.Code == "" || res.Health.Code.Done() {
		return nil
	}
	return fmt.Errorf("the set is not healthy: %s", res.Health)
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func inPod() bool { return os.Getenv("KUBERNETES_SERVICE_HOST") != "" }

// restConfig loads the kubeconfig file given, else the pod's service account, else
// the kubeconfig kubectl would use ($KUBECONFIG, ~/.kube/config), with the
// context given or the current one.
func restConfig(kubeconfig, kubeContext string) (*rest.Config, error) {
	if kubeconfig == "" && kubeContext == "" && os.Getenv("KUBECONFIG") == "" && inPod() {
		return rest.InClusterConfig()
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster configuration (give --kubeconfig, --context or $KUBECONFIG): %w", err)
	}
	return cfg, nil
}
