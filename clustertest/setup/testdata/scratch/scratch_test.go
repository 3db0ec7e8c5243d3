// A user's test package, in a module that requires gitopskit and nothing else:
// setup_test.go copies it into a module outside the repository and runs it.
package scratch

import (
	"context"
	"os"
	"testing"

	"github.com/gitopskit/gitopskit/clustertest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

func TestConfigMap(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(cluster.Config(t))
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"color": "blue"}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["color"] != "blue" {
		t.Errorf("data = %v", got.Data)
	}
}

// TestFails fails on purpose, to show the control plane's logs attached to a
// failing test. Only setup_test.go asks for it.
func TestFails(t *testing.T) {
	if os.Getenv("SCRATCH_FAIL") != "true" {
		t.Skip("fails on purpose when SCRATCH_FAIL=true")
	}
	cluster.Config(t)
	t.Error("failing on purpose")
}
