package clustertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// ErrNotLocal is returned by [Cluster.StartAPIServer] for an existing cluster, which
// has no etcd of its own to start another API server on.
var ErrNotLocal = errors.New("not a local control plane")

// APIServer is a kube-apiserver that [Cluster.StartAPIServer] started on the
// cluster's etcd.
type APIServer struct {
	cluster *Cluster
	proc    *process
	cfg     *rest.Config
}

// RESTConfig returns the API server's admin configuration.
func (a *APIServer) RESTConfig() *rest.Config { return rest.CopyConfig(a.cfg) }

// Stop stops the API server; its objects stay in etcd. It is safe to call twice.
func (a *APIServer) Stop() {
	a.proc.stop(10 * time.Second)
	a.cluster.mu.Lock()
	a.cluster.procs = slices.DeleteFunc(a.cluster.procs, func(p *process) bool { return p == a.proc })
	a.cluster.mu.Unlock()
}

// StartAPIServer starts another kube-apiserver on the cluster's etcd, under a
// storage prefix of its own: a second cluster that shares no object with the
// first, for tests of many clusters. It is cheap next to a control plane of its
// own (one process, no etcd), so a test can run several. It has no controllers or
// nodes, whatever Options.Nodes says, and stops with the cluster or with Stop.
func (c *Cluster) StartAPIServer(ctx context.Context) (*APIServer, error) {
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	p := c.plane
	c.servers++
	n := c.servers
	c.mu.Unlock()
	if p == nil {
		return nil, ErrNotLocal
	}
	dir := filepath.Join(p.dir, "apiserver-"+strconv.Itoa(n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	args := append(apiServerArgs(p.etcdURL, ports[0], dir, p.creds), "--etcd-prefix=/registry-"+strconv.Itoa(n))
	proc, err := c.run(dir, filepath.Join(p.bin, "kube-apiserver"), append(args, c.opts.APIServerFlags...)...)
	if err != nil {
		return nil, err
	}
	a := &APIServer{cluster: c, proc: proc, cfg: p.creds.config("https://127.0.0.1:" + strconv.Itoa(ports[0]))}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if err := waitReady(ctx, p.creds, a.cfg.Host, proc); err != nil {
		a.Stop()
		return nil, fmt.Errorf("API server %d: %w", n, err)
	}
	return a, nil
}

// NewAPIServer is [Cluster.StartAPIServer] for a test: it fails the test when the
// API server does not start (skips it when the binaries are missing, as
// [Cluster.Config] does) and stops the API server when the test ends.
func (c *Cluster) NewAPIServer(t testing.TB) *APIServer {
	t.Helper()
	c.Config(t)
	a, err := c.StartAPIServer(context.Background())
	if err != nil {
		t.Fatalf("start API server: %v", err)
	}
	t.Cleanup(a.Stop)
	return a
}
