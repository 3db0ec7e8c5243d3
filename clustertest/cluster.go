package clustertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configure a cluster. The zero value runs etcd and the API server only,
// which starts in about two seconds and serves everything but scheduling and
// controllers; with GITOPSKIT_USE_EXISTING_CLUSTER=true it uses the cluster of the
// current kubeconfig instead.
type Options struct {
	// Nodes is the number of fake nodes. When it is above zero the cluster also runs
	// kube-controller-manager, kube-scheduler and kwok, so workloads roll out: pods
	// are scheduled onto the nodes and turn Running, Jobs complete, Namespaces finish
	// terminating.
	Nodes int
	// BinDir is the directory holding the binaries. Empty means the environment
	// variable GITOPSKIT_CONTROLPLANE_DIR, or else the newest build in the cache.
	BinDir string
	// StartTimeout bounds the start. Zero means one minute, two with nodes.
	StartTimeout time.Duration
	// KwokStages are extra kwok Stage documents (YAML), for example one that makes the
	// pods of a test's Job fail. They are given to kwok after its default stages.
	KwokStages []string
	// DisableQPSLimits lifts the client rate limits of kube-controller-manager and
	// kube-scheduler (20 and 50 requests per second by default), as kwokctl's
	// --disable-qps-limits does, so that a benchmark with many workloads measures
	// the tool under test rather than the controllers' rate limits.
	DisableQPSLimits bool
	// APIServerFlags are added to kube-apiserver's command line, after the defaults.
	APIServerFlags []string
	// CRDDirs are directories of CustomResourceDefinition manifests (.yaml, .yml and
	// .json files; subdirectories are not read) to apply when the cluster starts. The
	// start waits until each is Established and served. Documents of other kinds are skipped, as
	// envtest does; a directory that is missing or holds no CRD, or a file that does
	// not decode, fails the start before anything runs.
	CRDDirs []string

	// UseExistingCluster runs against an existing cluster instead of starting one:
	// nothing is started or stopped, and BinDir, Nodes, KwokStages and APIServerFlags
	// are ignored; CRDDirs are still applied. Nil means the environment variable
	// GITOPSKIT_USE_EXISTING_CLUSTER decides ("true"), as USE_EXISTING_CLUSTER does
	// for controller-runtime's envtest, so one test suite runs on either.
	UseExistingCluster *bool
	// Kubeconfig is the kubeconfig file of the existing cluster; its current context
	// is used. Empty means client-go's default rules: the files $KUBECONFIG lists,
	// else ~/.kube/config.
	Kubeconfig string
}

// Cluster is a local control plane, or an existing cluster (see
// [Options.UseExistingCluster]). Its methods are safe for concurrent use.
type Cluster struct {
	opts Options

	once     sync.Once
	startErr error

	mu         sync.Mutex
	dir        string
	procs      []*process // in start order
	cfg        *rest.Config
	kubeconfig string
	logged     map[testing.TB]bool // tests whose failure attaches the logs
	plane      *plane              // of a local control plane, for more API servers
	servers    int                 // API servers started by NewAPIServer
}

// plane is what another API server on a local control plane's etcd needs.
type plane struct {
	bin, dir, etcdURL string
	creds             *credentials
}

// New returns a cluster that starts on first use ([Cluster.Start], [Cluster.Config],
// [Cluster.NewNamespace]).
func New(opts Options) *Cluster {
	return &Cluster{opts: opts}
}

// Start returns a started cluster, or an error naming the component that failed
// with the end of its log. The caller must call [Cluster.Stop].
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c := New(opts)
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Start starts the cluster unless it was started before, and returns the error of the
// first start. A cluster that failed to start has been cleaned up.
func (c *Cluster) Start(ctx context.Context) error {
	c.once.Do(func() {
		c.startErr = c.start(ctx)
		if c.startErr != nil {
			c.Stop()
		}
	})
	return c.startErr
}

// RESTConfig returns a copy of the admin client configuration (for an existing
// cluster, that of the kubeconfig's current context), with client-side rate limits
// raised (QPS 1000, burst 2000) so tests measure the server, not the client. It is
// nil before a successful start.
func (c *Cluster) RESTConfig() *rest.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		return nil
	}
	return rest.CopyConfig(c.cfg)
}

// Kubeconfig returns the path of a kubeconfig file for the cluster, for kubectl and
// other programs; for an existing cluster, a copy of the current context with the
// files it names inlined. It is empty before a successful start.
func (c *Cluster) Kubeconfig() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kubeconfig
}

// Stop stops every component, newest first, and removes the cluster's files. An
// existing cluster is left running, with the CRDs it was given. Stop is safe to call
// more than once.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(10 * time.Second)
	}
	c.procs = nil
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
		c.dir = ""
	}
}

func (c *Cluster) start(ctx context.Context) error {
	crds, err := readCRDs(c.opts.CRDDirs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if c.existing() {
		err = c.connect(ctx)
	} else {
		err = c.startLocal(ctx)
	}
	if err != nil {
		return err
	}
	return installCRDs(ctx, c.RESTConfig(), crds)
}

func (c *Cluster) timeout() time.Duration {
	switch {
	case c.opts.StartTimeout > 0:
		return c.opts.StartTimeout
	case c.opts.Nodes > 0 && !c.existing():
		return 2 * time.Minute
	default:
		return time.Minute
	}
}

// startLocal starts the control plane's processes.
func (c *Cluster) startLocal(ctx context.Context) error {
	need := []string{"etcd", "kube-apiserver"}
	if c.opts.Nodes > 0 {
		need = append(need, "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml")
	}
	bin, err := binDir(c.opts.BinDir, need)
	if err != nil {
		return err
	}
	dir, err := c.makeDir()
	if err != nil {
		return err
	}
	creds, err := newCredentials(dir)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	host := "https://127.0.0.1:" + strconv.Itoa(ports[2])

	etcd, err := c.run(dir, filepath.Join(bin, "etcd"),
		"--name=default",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		// The data is thrown away after the test: durability buys nothing here.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	if err := waitFor(ctx, "etcd", []*process{etcd}, httpOK(http.DefaultClient, etcdURL+"/health", "")); err != nil {
		return err
	}

	apiserver, err := c.run(dir, filepath.Join(bin, "kube-apiserver"), append(apiServerArgs(etcdURL, ports[2], dir, creds), c.opts.APIServerFlags...)...)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, creds, host, etcd, apiserver); err != nil {
		return err
	}

	cfg := creds.config(host)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, cfg); err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg, c.kubeconfig = cfg, kubeconfig
	c.plane = &plane{bin: bin, dir: dir, etcdURL: etcdURL, creds: creds}
	c.mu.Unlock()

	if c.opts.Nodes > 0 {
		return c.startNodes(ctx, dir, bin, creds, kubeconfig, ports[3])
	}
	return nil
}

// apiServerArgs is the command line of a kube-apiserver on etcdURL, serving on
// port with creds.
func apiServerArgs(etcdURL string, port int, dir string, creds *credentials) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		// A loopback advertise address is refused by the endpoint reconciler; nothing
		// here reaches the API server through the kubernetes Service.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + dir,
		"--tls-cert-file=" + creds.certFile, "--tls-private-key-file=" + creds.keyFile,
		"--client-ca-file=" + creds.caFile,
		"--token-auth-file=" + creds.tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + creds.saKey,
		"--service-account-signing-key-file=" + creds.saKey,
		"--service-cluster-ip-range=10.0.0.0/16", // room for benchmarks with a thousand Services
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--profiling=false",
	}
}

// waitReady waits until the API server at host is ready, or a process of procs
// exits.
func waitReady(ctx context.Context, creds *credentials, host string, procs ...*process) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(creds.caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	return waitFor(ctx, "kube-apiserver", procs, httpOK(client, host+"/readyz", creds.token))
}

// config is the admin's rest.Config of the API server at host.
func (c *credentials) config(host string) *rest.Config {
	return &rest.Config{
		Host:            host,
		BearerToken:     c.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM},
		QPS:             1000,
		Burst:           2000,
	}
}

// makeDir creates the cluster's directory, which Stop removes.
func (c *Cluster) makeDir() (string, error) {
	sweepOrphans()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.dir = dir
	c.mu.Unlock()
	return dir, markOwner(dir)
}

// run starts a component and records it for Stop.
func (c *Cluster) run(dir, bin string, args ...string) (*process, error) {
	p, err := startProcess(dir, bin, args...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

func (c *Cluster) allProcs() []*process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*process(nil), c.procs...)
}

func httpOK(client *http.Client, url, token string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
}

// freePorts returns n distinct free loopback ports. They are held open together so
// that the kernel does not hand out one twice.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["clustertest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["clustertest-admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["clustertest"] = &clientcmdapi.Context{Cluster: "clustertest", AuthInfo: "clustertest-admin"}
	kc.CurrentContext = "clustertest"
	return clientcmd.WriteToFile(*kc, path)
}
