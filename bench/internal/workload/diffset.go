package workload

import (
	"context"
	"errors"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

const (
	// DiffPairs is the number of (desired, live) pairs in a [DiffSet].
	DiffPairs = 1000
	// FieldManager is the field manager that applied a [DiffSet]'s objects.
	FieldManager = "gitopskit-bench"
)

var diffResources = map[string]schema.GroupVersionResource{
	"Deployment": {Group: "apps", Version: "v1", Resource: "deployments"},
	"Service":    {Version: "v1", Resource: "services"},
	"ConfigMap":  {Version: "v1", Resource: "configmaps"},
}

// DiffSet is the diff benchmarks' workload: desired objects, their live copies as the
// API server returns them (managedFields, defaults and all) and the IDs whose desired
// state really differs from live.
type DiffSet struct {
	// Desired holds the desired objects, in the order they were generated.
	Desired []*unstructured.Unstructured
	// Live holds the live objects, in the order the API server listed them.
	Live []*unstructured.Unstructured
	// Changed holds the IDs of the pairs that really differ: one in ten.
	Changed object.Set
}

// NewDiffSet applies [DiffPairs] Deployments, Services (headless) and ConfigMaps to
// namespace ns with server-side apply as [FieldManager], makes a real change to one
// object in ten, rotating over the kinds (half in the desired object, as a change in
// Git would; half in the cluster, as another manager's edit would) and reads the live
// objects back.
func NewDiffSet(ctx context.Context, cfg *rest.Config, ns string) (*DiffSet, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := &DiffSet{Changed: object.NewSet()}
	for i := range DiffPairs {
		s.Desired = append(s.Desired, desiredObject(ns, i))
	}
	if err := applyAll(ctx, dyn, ns, s.Desired); err != nil {
		return nil, err
	}
	for i, u := range s.Desired {
		if i%10 != (i/10)%10 {
			continue
		}
		s.Changed.Add(object.IDOf(u))
		if (i/10)%2 == 0 {
			change(u, i)
			continue
		}
		res := dyn.Resource(diffResources[u.GetKind()]).Namespace(ns)
		live, err := res.Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		change(live, i)
		if _, err := res.Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			return nil, err
		}
	}
	for _, gvr := range diffResources {
		l, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			item := l.Items[i]
			if gvr.Resource == "configmaps" && item.GetName() == "kube-root-ca.crt" {
				continue
			}
			s.Live = append(s.Live, &item)
		}
	}
	if len(s.Live) != DiffPairs {
		return nil, fmt.Errorf("listed %d live objects, want %d", len(s.Live), DiffPairs)
	}
	return s, nil
}

// applyAll applies objs with up to 16 requests in flight.
func applyAll(ctx context.Context, dyn dynamic.Interface, ns string, objs []*unstructured.Unstructured) error {
	sem := make(chan struct{}, 16)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, u := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := dyn.Resource(diffResources[u.GetKind()]).Namespace(ns).Apply(ctx, u.GetName(), u,
				metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("apply %s: %w", object.IDOf(u), err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Paired returns the live objects in the order of Desired, for tools that diff
// pairs rather than sets.
func (s *DiffSet) Paired() ([]*unstructured.Unstructured, error) {
	byID := make(map[object.ID]*unstructured.Unstructured, len(s.Live))
	for _, u := range s.Live {
		byID[object.IDOf(u)] = u
	}
	paired := make([]*unstructured.Unstructured, len(s.Desired))
	for i, u := range s.Desired {
		if paired[i] = byID[object.IDOf(u)]; paired[i] == nil {
			return nil, fmt.Errorf("no live object for %s", object.IDOf(u))
		}
	}
	return paired, nil
}

// Score counts the false positives and negatives of p against the real changes; a
// pair the plan could not diff counts as a false negative.
func (s *DiffSet) Score(p *diff.Plan) (fp, fn int) {
	for _, c := range p.Changes {
		switch {
		case c.Changed() && !s.Changed.Has(c.ID):
			fp++
		case !c.Changed() && s.Changed.Has(c.ID):
			fn++
		}
	}
	return fp, fn + p.Counts.Failed
}

// Differs returns gitopskit's server-side and offline differs for the set's
// cluster, with [FieldManager], their schema cache and REST mapper warmed by a plan
// of the first ten pairs.
func (s *DiffSet) Differs(ctx context.Context, cfg *rest.Config, serverConcurrency, offlineConcurrency int) (server, offline *diff.Differ, err error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	opts := diff.Options{FieldManager: FieldManager, Force: true, Concurrency: serverConcurrency}
	if server, err = diff.New(diff.NewServer(dyn, mapper), opts); err != nil {
		return nil, nil, err
	}
	opts.Concurrency = offlineConcurrency
	if offline, err = diff.New(diff.NewOffline(diff.NewClusterSchemas(dc.OpenAPIV3()), diff.OfflineOptions{}), opts); err != nil {
		return nil, nil, err
	}
	for _, d := range []*diff.Differ{offline, server} {
		if _, err := d.Plan(ctx, diff.Input{Desired: s.Desired[:10], Live: s.Live}); err != nil {
			return nil, nil, err
		}
	}
	return server, offline, nil
}
