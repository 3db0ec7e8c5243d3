package apply_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/gitopskit/gitopskit/apply"
)

// laggingMapper is a RESTMapper whose discovery serves a group only after a few
// reads following a Reset, as the API server's discovery does for a moment after
// a CRD is Established.
type laggingMapper struct {
	*restmapper.DeferredDiscoveryRESTMapper
	group string
	lag   atomic.Int32
}

func (m *laggingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	if gk.Group == m.group && m.lag.Add(-1) >= 0 {
		return nil, &meta.NoKindMatchError{GroupKind: gk}
	}
	return m.DeferredDiscoveryRESTMapper.RESTMapping(gk, versions...)
}

// A custom resource applied in the same set as its CRD waits until discovery
// serves its kind, not only until the CRD is Established.
func TestApplyWaitsForDiscoveryOfNewKinds(t *testing.T) {
	e := newEnv(t, apply.Options{})
	crd, widgets := e.widgetCRD()
	cfg := cluster.Config(t)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)
	mapper := &laggingMapper{DeferredDiscoveryRESTMapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), group: widgets.Group}
	mapper.lag.Store(3)
	m, err := apply.New(e.dyn, mapper, apply.Options{})
	require.NoError(t, err)
	e.m = m
	e.apply(e.objects(crd+widget(widgets.Group, "gear")), apply.ApplyOptions{})
	_, err = e.get(widgets, "gear")
	require.NoError(t, err)
}
