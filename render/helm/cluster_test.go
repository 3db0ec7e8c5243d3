package helm_test

import (
	"testing"

	"k8s.io/client-go/discovery"

	"github.com/gitopskit/gitopskit/clustertest"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

func discoveryClient(t *testing.T) *discovery.DiscoveryClient {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cluster.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return dc
}
