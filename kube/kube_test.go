package kube_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/kube"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// countingTransport counts the requests it carries.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestNewForConfigClientsWork(t *testing.T) {
	ctx := context.Background()
	c, err := kube.NewForConfig(cluster.Config(t), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Mapper.RESTMapping(schema.GroupKind{Kind: "ConfigMap"}, "v1")
	if err != nil || m.Resource.Resource != "configmaps" || m.Scope.Name() != meta.RESTScopeNameNamespace {
		t.Fatalf("mapping = %+v, %v", m, err)
	}
	if _, err := c.Dynamic.Resource(m.Resource).Namespace("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("dynamic list: %v", err)
	}
	if l, err := c.Metadata.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) == 0 {
		t.Fatalf("metadata list: %v, %v", l, err)
	}
	if v, err := c.Discovery.ServerVersion(); err != nil || v.Major != "1" {
		t.Fatalf("server version = %v, %v", v, err)
	}
}

// A controller-runtime manager's HTTP client and RESTMapper are used as given: every
// request goes through the shared client, and no second discovery cache is built.
func TestNewForConfigSharesHTTPClientAndMapper(t *testing.T) {
	cfg := cluster.Config(t)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingTransport{next: hc.Transport}
	hc.Transport = counter
	own, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := kube.NewForConfig(cfg, kube.Options{HTTPClient: hc, Mapper: own.Mapper})
	if err != nil {
		t.Fatal(err)
	}
	if c.Mapper != own.Mapper {
		t.Fatal("Options.Mapper was not used")
	}
	ctx := context.Background()
	if _, err := c.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Metadata.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Discovery.ServerVersion(); err != nil {
		t.Fatal(err)
	}
	if got := counter.n.Load(); got != 3 {
		t.Fatalf("the shared HTTP client carried %d requests, want 3", got)
	}
}

func TestNewForConfigNamesTheClientItCannotBuild(t *testing.T) {
	_, err := kube.NewForConfig(&rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("not a certificate")}}, kube.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "http client: ") {
		t.Fatalf("bad CA: err = %v", err)
	}
}
