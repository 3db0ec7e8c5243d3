package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// startNodes runs the controllers, the scheduler and kwok, registers the fake nodes
// and waits until they are Ready.
func (c *Cluster) startNodes(ctx context.Context, dir, bin string, creds *credentials, kubeconfig string, kwokPort int) error {
	common := []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--authentication-skip-lookup=true",
		"--leader-elect=false",
		"--secure-port=0",
	}
	if c.opts.DisableQPSLimits {
		common = append(common, "--kube-api-qps=5000", "--kube-api-burst=10000")
	}
	if _, err := c.run(dir, filepath.Join(bin, "kube-controller-manager"), append(common,
		"--service-account-private-key-file="+creds.saKey,
		"--root-ca-file="+creds.caFile,
		// Legacy token Secrets are not needed: the ServiceAccount admission plugin is off.
		"--controllers=*,-serviceaccount-token",
	)...); err != nil {
		return err
	}
	if _, err := c.run(dir, filepath.Join(bin, "kube-scheduler"), common...); err != nil {
		return err
	}
	kwokArgs := []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + filepath.Join(bin, "kwok-stages.yaml"),
		"--manage-all-nodes=true",
		fmt.Sprintf("--server-address=127.0.0.1:%d", kwokPort),
	}
	if len(c.opts.KwokStages) > 0 {
		extra := filepath.Join(dir, "kwok-extra-stages.yaml")
		if err := os.WriteFile(extra, []byte("---\n"+strings.Join(c.opts.KwokStages, "\n---\n")), 0o600); err != nil {
			return err
		}
		kwokArgs = append(kwokArgs, "--config="+extra)
	}
	if _, err := c.run(dir, filepath.Join(bin, "kwok"), kwokArgs...); err != nil {
		return err
	}

	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	for i := range c.opts.Nodes {
		if _, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(fmt.Sprintf("kwok-node-%d", i)), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node: %w", err)
		}
	}
	return waitFor(ctx, fmt.Sprintf("%d Ready nodes", c.opts.Nodes), c.allProcs(), func(ctx context.Context) error {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready < c.opts.Nodes {
			return fmt.Errorf("%d of %d nodes Ready", ready, c.opts.Nodes)
		}
		// Pods need the default ServiceAccount, which the controller manager creates.
		_, err = cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// fakeNode is a node kwok manages: large enough for any test workload.
func fakeNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"kubernetes.io/role": "agent", "type": "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo:    corev1.NodeSystemInfo{Architecture: "amd64", OperatingSystem: "linux", KubeletVersion: "fake"},
		},
	}
}
