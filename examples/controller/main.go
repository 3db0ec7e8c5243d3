// Command controller is a controller-runtime controller built on gitopskit: it
// keeps the objects of GitSync resources (gitopskit.io/v1alpha1) applied, one
// reconcile pass per interval in self-heal mode, with leader election, events and
// a status that says the applied revision and the inventory.
//
//	kubectl apply -f examples/controller/config/
//	kubectl apply -f examples/controller/config/samples/gitsync.yaml
//
// Each GitSync's objects are recorded in an ApplySet whose parent is the
// ConfigMap "gitsync-<name>" in the GitSync's namespace; namespaced objects
// without a namespace go to the GitSync's namespace. A pass does not wait for
// health: while the objects are not healthy the GitSync is Ready=Unknown and
// looked at again shortly, until spec.timeout. Deleting a GitSync with
// spec.prune deletes what it applied; without, the objects stay.
//
// A GitSync naming spec.serviceAccountName is applied by impersonating that
// ServiceAccount, so the API server's RBAC limits what its repository may
// declare; config/rbac.yaml gives the controller itself only its GitSyncs,
// events, its lease and impersonation. A GitSync without one is applied with the
// controller's own rights: grant them with
// config/optional/apply-with-controller-rights.yaml if you want that.
//
// Flags: --kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config),
// --leader-elect (default: on in a pod, off outside), --concurrent, and others
// (-h lists them).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2/textlogger"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/render/isolate"
)

// options are the controller's settings.
type options struct {
	kubeconfig             string
	leaderElect            bool
	leaderElectionNS       string
	metricsAddr, probeAddr string
	cacheDir, fieldManager string
	concurrent             int
	healthPoll             time.Duration
	// shardID, when set, makes the replica one of several that share the
	// GitSyncs (see Shard) instead of electing a leader.
	shardID            string
	shardNamespace     string
	shardLeaseDuration time.Duration
	// passHook, when set, is told when a pass starts and ends (tests).
	passHook func(key string, started bool)
	// namespaces, when set, limits the controller to the GitSyncs of these
	// namespaces (tests run one controller per namespace on a shared cluster).
	namespaces []string
}

// parseOptions reads the command line. Leader election is on by default inside
// a pod (where KUBERNETES_SERVICE_HOST is set), where replicas may run side by
// side, and off outside, where a lease would only delay a restarted controller.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)")
	fs.BoolVar(&o.leaderElect, "leader-elect", os.Getenv("KUBERNETES_SERVICE_HOST") != "",
		"elect a leader, so that replicas do not apply at once (default: on in a pod)")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's)")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of /metrics (0 turns it off)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&o.cacheDir, "cache-dir", filepath.Join(os.TempDir(), "gitsync-cache"), "Git cache directory")
	fs.StringVar(&o.fieldManager, "field-manager", "gitsync-controller", "server-side apply field manager")
	fs.IntVar(&o.concurrent, "concurrent", 1, "GitSyncs reconciled at once")
	fs.StringVar(&o.shardID, "shard-id", "", "share the GitSyncs with the other replicas, as this member (the pod's name); turns leader election off")
	fs.StringVar(&o.shardNamespace, "shard-namespace", "", "namespace of the sharding Leases (default: --leader-election-namespace)")
	fs.DurationVar(&o.shardLeaseDuration, "shard-lease-duration", 15*time.Second, "how long a replica's share stays its own without renewal")
	return o, fs.Parse(args)
}

func main() {
	if isolate.Child() { // a render child (see render/isolate) answers and ends here
		return
	}
	ctrl.SetLogger(textlogger.NewLogger(textlogger.NewConfig()))
	os.Exit(run(ctrl.SetupSignalHandler(), os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return 2
	}
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		fmt.Fprintln(stderr, "controller:", err)
		return 1
	}
	mgr, err := newManager(cfg, o)
	if err != nil {
		fmt.Fprintln(stderr, "controller:", err)
		return 1
	}
	if err := mgr.Start(ctx); err != nil {
		fmt.Fprintln(stderr, "controller:", err)
		return 1
	}
	return 0
}

// restConfig loads the kubeconfig file named by --kubeconfig, or else finds the
// configuration as controller-runtime does ($KUBECONFIG, in-cluster,
// ~/.kube/config).
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return ctrl.GetConfig()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}

// newManager returns a manager running the GitSync controller.
func newManager(cfg *rest.Config, o options) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	var cacheOpts cache.Options
	if len(o.namespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range o.namespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   cacheOpts,
		LeaderElection:          o.leaderElect && o.shardID == "",
		LeaderElectionID:        "gitsync.gitopskit.io",
		LeaderElectionNamespace: o.leaderElectionNS,
		// Release the lease on a clean stop, so a new replica takes over at once.
		LeaderElectionReleaseOnCancel: true,
		Metrics:                       metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:        o.probeAddr,
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	r := &GitSyncReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Config:       mgr.GetConfig(),
		Recorder:     mgr.GetEventRecorder("gitsync-controller"),
		CacheDir:     o.cacheDir,
		FieldManager: o.fieldManager,
		HealthPoll:   o.healthPoll,
		passHook:     o.passHook,
	}
	if o.shardID != "" {
		direct, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return nil, err
		}
		ns := o.shardNamespace
		if ns == "" {
			ns = o.leaderElectionNS
		}
		if ns == "" {
			return nil, errors.New("--shard-id needs --shard-namespace")
		}
		r.Shard = &Shard{Client: direct, Namespace: ns, ID: o.shardID, LeaseDuration: o.shardLeaseDuration}
		if err := mgr.Add(r.Shard); err != nil {
			return nil, err
		}
	}
	if err := r.SetupWithManager(mgr, o.concurrent); err != nil {
		return nil, err
	}
	return mgr, nil
}
