// Package kube builds, from one rest.Config, the client-go clients that gitopskit's
// packages share: a dynamic client, a discovery client, and a RESTMapper that
// discovers kinds lazily, caches them in memory, reads discovery again when asked
// for a kind it does not know (a CRD applied since), and can be reset.
package kube

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	Mapper    *Mapper
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
	return &Clients{Dynamic: dyn, Discovery: dc, Mapper: NewMapper(dc)}, nil
}

// refreshInterval is the least time between two reads of discovery for kinds a
// Mapper does not know: a name nobody serves costs one read a second at most.
const refreshInterval = time.Second

// Mapper is a RESTMapper over discovery, cached in memory. Asked for a kind it
// does not know, it reads discovery again once (at most once per
// refreshInterval) before it answers that no such kind is served.
type Mapper struct {
	*restmapper.DeferredDiscoveryRESTMapper
	mu   sync.Mutex
	next time.Time
}

// NewMapper returns a Mapper over the discovery of dc.
func NewMapper(dc discovery.DiscoveryInterface) *Mapper {
	return &Mapper{DeferredDiscoveryRESTMapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

// RESTMapping implements meta.RESTMapper.
func (m *Mapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	rm, err := m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
	if meta.IsNoMatchError(err) && m.refresh() {
		rm, err = m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
	}
	return rm, err
}

// RESTMappings implements meta.RESTMapper.
func (m *Mapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	rms, err := m.DeferredDiscoveryRESTMapper.RESTMappings(gk, versions...)
	if meta.IsNoMatchError(err) && m.refresh() {
		rms, err = m.DeferredDiscoveryRESTMapper.RESTMappings(gk, versions...)
	}
	return rms, err
}

// KindFor implements meta.RESTMapper.
func (m *Mapper) KindFor(resource schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	gvk, err := m.DeferredDiscoveryRESTMapper.KindFor(resource)
	if meta.IsNoMatchError(err) && m.refresh() {
		gvk, err = m.DeferredDiscoveryRESTMapper.KindFor(resource)
	}
	return gvk, err
}

// refresh resets the cache unless it was reset less than refreshInterval ago,
// and reports whether it did.
func (m *Mapper) refresh() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Before(m.next) {
		return false
	}
	m.next = now.Add(refreshInterval)
	m.Reset()
	return true
}
