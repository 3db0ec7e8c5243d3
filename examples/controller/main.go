// Command controller is a controller-runtime controller built on gitopskit: it
// keeps the objects of GitSync resources (gitopskit.io/v1alpha1) applied, one
// reconcile pass per interval in self-heal mode, with leader election, events and
// a status that says the applied revision and the inventory.
//
//	kubectl apply -f examples/controller/config/
//	kubectl apply -f examples/controller/config/samples/gitsync.yaml
//
// Each GitSync's objects are recorded in an ApplySet whose parent is the Secret
// "gitsync-<name>" in the GitSync's namespace; namespaced objects without a
// namespace go to the GitSync's namespace.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2/textlogger"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/render/isolate"
)

// options are the controller's settings.
type options struct {
	leaderElect            bool
	leaderElectionNS       string
	metricsAddr, probeAddr string
	cacheDir, fieldManager string
}

func main() {
	if isolate.Child() { // a render child (see render/isolate) answers and ends here
		return
	}
	ctrl.SetLogger(textlogger.NewLogger(textlogger.NewConfig()))
	os.Exit(run(ctrl.SetupSignalHandler(), os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.leaderElect, "leader-elect", true, "elect a leader, so that replicas do not apply at once")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's)")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of /metrics (0 turns it off)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&o.cacheDir, "cache-dir", filepath.Join(os.TempDir(), "gitsync-cache"), "Git cache directory")
	fs.StringVar(&o.fieldManager, "field-manager", "gitsync-controller", "server-side apply field manager")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := ctrl.GetConfig() // --kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config
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

// newManager returns a manager running the GitSync controller.
func newManager(cfg *rest.Config, o options) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		LeaderElection:          o.leaderElect,
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
		Config:       mgr.GetConfig(),
		Recorder:     mgr.GetEventRecorder("gitsync-controller"),
		CacheDir:     o.cacheDir,
		FieldManager: o.fieldManager,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return mgr, nil
}
