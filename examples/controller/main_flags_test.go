package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Leader election is on by default in a pod (KUBERNETES_SERVICE_HOST set) and
// off outside; the flag overrides either way.
func TestLeaderElectDefault(t *testing.T) {
	for _, tc := range []struct {
		host string
		args []string
		want bool
	}{
		{"", nil, false},
		{"10.0.0.1", nil, true},
		{"10.0.0.1", []string{"--leader-elect=false"}, false},
		{"", []string{"--leader-elect"}, true},
	} {
		t.Setenv("KUBERNETES_SERVICE_HOST", tc.host)
		o, err := parseOptions(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if o.leaderElect != tc.want {
			t.Errorf("KUBERNETES_SERVICE_HOST=%q %v: leader election %v, want %v", tc.host, tc.args, o.leaderElect, tc.want)
		}
	}
}

// The controller started as a command with --kubeconfig syncs against that
// cluster and exits 0 when stopped; a kubeconfig that does not exist is an error
// naming it.
func TestKubeconfigFlag(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // no leader election: no lease to find
	kubeconfig := cluster.KubeconfigPath(t)
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)

	missing := filepath.Join(t.TempDir(), "nowhere.yaml")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--kubeconfig", missing}, &stderr); code != 1 || !strings.Contains(stderr.String(), missing) {
		t.Errorf("missing kubeconfig: exit %d, stderr %q; want 1 naming the file", code, stderr.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan int, 1)
	var out bytes.Buffer
	go func() {
		exited <- run(ctx, []string{"--kubeconfig", kubeconfig, "--metrics-bind-address=0", "--health-probe-bind-address=0",
			"--cache-dir", t.TempDir()}, &out)
	}()
	_, url, rev := serveRepo(t, map[string]string{"deploy/a.yaml": configMapYAML("", "a")})
	c := newClient(t, cfg)
	gs := newGitSync(ns, "apps", url, "deploy", false)
	if err := c.Create(ctx, gs); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, client.ObjectKeyFromObject(gs), "applied by the command", readyIs(metav1.ConditionTrue, "Succeeded", rev))
	cancel()
	if code := <-exited; code != 0 {
		t.Errorf("exit %d after a stop, want 0; stderr: %s", code, out.String())
	}
}
