package kube

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestNew(t *testing.T) {
	c, err := New(&rest.Config{Host: "https://127.0.0.1:6443"})
	if err != nil || c.Dynamic == nil || c.Discovery == nil || c.Mapper == nil {
		t.Fatalf("New = %+v, %v", c, err)
	}
	// A config client-go refuses names the client that could not be built.
	_, err = New(&rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("not a certificate")}})
	if err == nil || !strings.HasPrefix(err.Error(), "dynamic client: ") {
		t.Fatalf("bad CA: err = %v", err)
	}
}
