// Package kube builds, from one rest.Config, the client-go clients that gitopskit's
// packages share: a dynamic client, a discovery client, and a RESTMapper that
// discovers kinds lazily, caches them in memory and can be reset (after CRDs are
// applied).
package kube

import (
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Clients are the clients for one cluster.
type Clients struct {
	Dynamic   dynamic.Interface
	Discovery *discovery.DiscoveryClient
	Mapper    *restmapper.DeferredDiscoveryRESTMapper
}

// New returns the clients for cfg.
func New(cfg *rest.Config) (*Clients, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Clients{Dynamic: dyn, Discovery: dc, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}
