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
	dir     string
	args    []string
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
	args = append(args, c.opts.APIServerFlags...)
	proc, err := c.run(dir, filepath.Join(p.bin, "kube-apiserver"), args...)
	if err != nil {
		return nil, err
	}
	a := &APIServer{cluster: c, dir: dir, args: args, proc: proc, cfg: p.creds.config("https://127.0.0.1:" + strconv.Itoa(ports[0]))}
	if err := a.waitReady(ctx); err != nil {
		return nil, fmt.Errorf("API server %d: %w", n, err)
	}
	return a, nil
}

// Restart stops the API server, if it runs, and starts it again on the same port
// and storage: its objects are still there, and clients see what they see when a
// real API server restarts (watches end, requests fail until it is ready again).
func (a *APIServer) Restart(ctx context.Context) error {
	a.Stop()
	a.cluster.mu.Lock()
	bin := filepath.Join(a.cluster.plane.bin, "kube-apiserver")
	a.cluster.mu.Unlock()
	proc, err := a.cluster.run(a.dir, bin, a.args...)
	if err != nil {
		return err
	}
	a.proc = proc
	return a.waitReady(ctx)
}

// waitReady waits until the API server is ready, and stops it when it is not.
func (a *APIServer) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cluster.timeout())
	defer cancel()
	a.cluster.mu.Lock()
	creds := a.cluster.plane.creds
	a.cluster.mu.Unlock()
	if err := waitReady(ctx, creds, a.cfg.Host, a.proc); err != nil {
		a.Stop()
		return err
	}
	return nil
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
