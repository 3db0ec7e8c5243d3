package clustertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// existing says whether to use an existing cluster: the option, else the environment.
func (c *Cluster) existing() bool {
	if c.opts.UseExistingCluster != nil {
		return *c.opts.UseExistingCluster
	}
	return os.Getenv("GITOPSKIT_USE_EXISTING_CLUSTER") == "true"
}

// connect takes the existing cluster of the kubeconfig, checks that it answers, and
// writes a kubeconfig of its own for Kubeconfig: the current context alone, with the
// files it names inlined, so it stays valid wherever the original points.
func (c *Cluster) connect(ctx context.Context) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := "the default kubeconfig ($KUBECONFIG or ~/.kube/config)"
	if c.opts.Kubeconfig != "" {
		rules.ExplicitPath = c.opts.Kubeconfig
		where = c.opts.Kubeconfig
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	raw, err := loader.RawConfig()
	if err == nil && raw.CurrentContext == "" {
		err = errors.New("no current context")
	}
	if err != nil {
		return fmt.Errorf("existing cluster from %s: %w", where, err)
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return fmt.Errorf("existing cluster from %s: %w", where, err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("existing cluster %s: %w", cfg.Host, err)
	}
	if _, err := dc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw(); err != nil {
		return fmt.Errorf("existing cluster %s (context %q of %s): %w", cfg.Host, raw.CurrentContext, where, err)
	}

	if err := clientcmdapi.MinifyConfig(&raw); err != nil {
		return fmt.Errorf("existing cluster from %s: %w", where, err)
	}
	if err := clientcmdapi.FlattenConfig(&raw); err != nil {
		return fmt.Errorf("existing cluster from %s: %w", where, err)
	}
	dir, err := c.makeDir()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(raw, kubeconfig); err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg, c.kubeconfig = cfg, kubeconfig
	c.mu.Unlock()
	return nil
}
