package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/internal/testtool"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Run runs a package's tests and stops the cluster after them, if they started it.
// Call it from TestMain; its result is m.Run's, which the test binary exits with
// when TestMain returns.
func (c *Cluster) Run(m *testing.M) int {
	defer c.Stop()
	return m.Run()
}

// Config starts the cluster if needed and returns its admin configuration (see
// [Cluster.RESTConfig]). When the binaries are missing it skips the test, or fails it
// when the environment variable CI is "true"; any other start error fails the test.
//
// When the test fails, the last lines each component of a local cluster logged
// while the test ran are attached to it (t.Log), at most 40 per component.
func (c *Cluster) Config(t testing.TB) *rest.Config {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		if errors.Is(err, ErrBinariesMissing) {
			testtool.Missing(t, err.Error())
		}
		t.Fatalf("start cluster: %v", err)
	}
	c.attachLogs(t)
	return c.RESTConfig()
}

// logLines is how many lines of each component's log a failing test gets.
const logLines = 40

// attachLogs makes a failing test log what the components logged from now until its
// end, once per test however often it takes the cluster.
func (c *Cluster) attachLogs(t testing.TB) {
	c.mu.Lock()
	if c.logged[t] || len(c.procs) == 0 {
		c.mu.Unlock()
		return
	}
	if c.logged == nil {
		c.logged = map[testing.TB]bool{}
	}
	c.logged[t] = true
	procs := append([]*process(nil), c.procs...)
	c.mu.Unlock()

	offsets := make([]int64, len(procs))
	for i, p := range procs {
		if fi, err := os.Stat(p.log); err == nil {
			offsets[i] = fi.Size()
		}
	}
	t.Cleanup(func() {
		c.mu.Lock()
		delete(c.logged, t)
		c.mu.Unlock()
		if !t.Failed() {
			return
		}
		for i, p := range procs {
			switch out, err := tailFrom(p.log, offsets[i], logLines); {
			case err != nil:
				t.Logf("clustertest: %s log: %v", p.name, err)
			case out == "":
				t.Logf("clustertest: %s logged nothing during the test", p.name)
			default:
				t.Logf("clustertest: %s logged during the test (last %d lines at most):\n%s", p.name, logLines, out)
			}
		}
	})
}

// KubeconfigPath starts the cluster if needed, like [Cluster.Config], and returns the
// path of its kubeconfig file.
func (c *Cluster) KubeconfigPath(t testing.TB) string {
	t.Helper()
	c.Config(t)
	return c.Kubeconfig()
}

// NewNamespace creates a namespace named after the test, with a random suffix, and
// deletes it when the test ends. Deletion is not awaited: without a controller
// manager a namespace stays Terminating, which does not concern other tests.
func (c *Cluster) NewNamespace(t testing.TB) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config(t))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceName(t.Name())}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", ns.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// namespaceName makes a DNS label from a test name: lower case, at most 63
// characters, with 6 random hex digits so reruns never collide.
func namespaceName(test string) string {
	base := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(test), "-"), "-")
	if len(base) > 55 {
		base = strings.TrimRight(base[:55], "-")
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	if base == "" {
		base = "test"
	}
	return base + "-" + hex.EncodeToString(suffix)
}
