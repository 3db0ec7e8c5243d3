package kube

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Clients are the clients of one cluster that gitopskit's packages share: build
// them once and hand their fields to apply.New, health.NewWaiter, diff.NewServer or
// reconcile.NewCluster, so that every stage uses one connection pool and one
// discovery cache.
type Clients struct {
	// Dynamic reads and writes objects of any kind.
	Dynamic dynamic.Interface
	// Metadata lists objects as metadata only.
	Metadata metadata.Interface
	// Discovery lists the resource types the cluster serves and its OpenAPI schemas.
	Discovery discovery.DiscoveryInterface
	// Mapper maps kinds to resources and scopes.
	Mapper meta.RESTMapper
}

// Options configure [NewForConfig]. The zero Options build everything from the
// rest.Config.
type Options struct {
	// HTTPClient, when set, carries every request, as client-go's
	// NewForConfigAndClient constructors take it: a controller-runtime manager's
	// GetHTTPClient(), so that the clients share the manager's connections.
	HTTPClient *http.Client
	// Mapper, when set, is used instead of a new [Mapper]: a controller-runtime
	// manager's GetRESTMapper(), so that one discovery cache serves both.
	Mapper meta.RESTMapper
}

// NewForConfig returns the clients for cfg. It does not contact the cluster.
func NewForConfig(cfg *rest.Config, opts Options) (*Clients, error) {
	hc := opts.HTTPClient
	if hc == nil {
		var err error
		if hc, err = rest.HTTPClientFor(cfg); err != nil {
			return nil, fmt.Errorf("http client: %w", err)
		}
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	c := &Clients{Dynamic: dyn, Metadata: md, Discovery: dc, Mapper: opts.Mapper}
	if c.Mapper == nil {
		c.Mapper = NewMapper(dc)
	}
	return c, nil
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
