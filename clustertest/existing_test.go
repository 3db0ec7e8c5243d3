package clustertest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestUseExistingCluster points a second cluster at the shared one's kubeconfig, the
// way a user points their tests at kind or a CI cluster, and checks that both see
// the same objects, that nothing was started, and that stopping it leaves the
// cluster running. The binary directory is empty: an existing cluster needs none.
func TestUseExistingCluster(t *testing.T) {
	kubeconfig := cluster.KubeconfigPath(t)
	ns := cluster.NewNamespace(t)
	shared := kubernetes.NewForConfigOrDie(cluster.Config(t))
	ctx := context.Background()

	for name, opts := range map[string]func(t *testing.T) Options{
		"environment": func(t *testing.T) Options {
			t.Setenv("GITOPSKIT_USE_EXISTING_CLUSTER", "true")
			t.Setenv("KUBECONFIG", kubeconfig)
			return Options{BinDir: t.TempDir()}
		},
		"options": func(t *testing.T) Options {
			t.Setenv("GITOPSKIT_USE_EXISTING_CLUSTER", "")
			return Options{BinDir: t.TempDir(), UseExistingCluster: ptr(true), Kubeconfig: kubeconfig}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Start(ctx, opts(t))
			require.NoError(t, err)
			assert.Empty(t, c.allProcs(), "nothing is started for an existing cluster")

			cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "from-" + name}, Data: map[string]string{"k": "v"}}
			_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
			require.NoError(t, err)
			got, err := shared.CoreV1().ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, "v", got.Data["k"])

			// Its kubeconfig is a standalone copy of the current context.
			kc, err := clientcmd.LoadFromFile(c.Kubeconfig())
			require.NoError(t, err)
			assert.Len(t, kc.Contexts, 1)
			assert.Equal(t, c.RESTConfig().Host, kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster].Server)

			dir := filepath.Dir(c.Kubeconfig())
			c.Stop()
			assert.NoDirExists(t, dir)
			_, err = shared.CoreV1().ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{})
			assert.NoError(t, err, "the existing cluster still serves after Stop")
		})
	}

	t.Run("option false overrides the environment", func(t *testing.T) {
		t.Setenv("GITOPSKIT_USE_EXISTING_CLUSTER", "true")
		_, err := Start(ctx, Options{BinDir: t.TempDir(), UseExistingCluster: ptr(false)})
		assert.ErrorIs(t, err, ErrBinariesMissing, "a local cluster was asked for")
	})
}

func TestUseExistingClusterErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	_, err := Start(ctx, Options{UseExistingCluster: ptr(true), Kubeconfig: missing})
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing)

	// A kubeconfig whose server does not answer fails the start, naming the server.
	dead := filepath.Join(t.TempDir(), "kubeconfig")
	ports, err := freePorts(1)
	require.NoError(t, err)
	host := "https://127.0.0.1:" + strconv.Itoa(ports[0])
	require.NoError(t, os.WriteFile(dead, []byte("apiVersion: v1\nkind: Config\ncurrent-context: c\n"+
		"clusters: [{name: c, cluster: {server: '"+host+"', insecure-skip-tls-verify: true}}]\n"+
		"contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"), 0o600))
	_, err = Start(ctx, Options{UseExistingCluster: ptr(true), Kubeconfig: dead})
	require.Error(t, err)
	assert.Contains(t, err.Error(), host)
	assert.False(t, errors.Is(err, ErrBinariesMissing))
}

func ptr[T any](v T) *T { return &v }
