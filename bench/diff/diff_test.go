package diff

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

const (
	pairs   = 1000
	manager = "gitopskit-bench"
)

var resources = map[string]schema.GroupVersionResource{
	"Deployment": {Group: "apps", Version: "v1", Resource: "deployments"},
	"Service":    {Version: "v1", Resource: "services"},
	"ConfigMap":  {Version: "v1", Resource: "configmaps"},
}

// workload is the benchmark's set: desired objects, their live copies and the IDs
// whose desired state really differs.
type workload struct {
	desired, live []*unstructured.Unstructured
	changed       object.Set
	server        *diff.Differ
	offline       *diff.Differ
}

var (
	once   sync.Once
	shared *workload
)

func desiredObject(ns string, i int) *unstructured.Unstructured {
	name := fmt.Sprintf("app-%04d", i)
	var o map[string]any
	switch i % 10 {
	case 0, 1, 2, 3:
		o = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"app": name, "tier": "web"}},
			"spec": map[string]any{
				"replicas": int64(2),
				"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "image": "nginx:1.27",
						"ports":     []any{map[string]any{"containerPort": int64(80)}, map[string]any{"containerPort": int64(9090), "name": "metrics"}},
						"env":       []any{map[string]any{"name": "MODE", "value": "prod"}},
						"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "64Mi"}, "limits": map[string]any{"cpu": "1000m", "memory": "0.5Gi"}},
					}}},
				},
			}}
	case 4, 5, 6:
		o = map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"app": name}},
			"spec": map[string]any{"selector": map[string]any{"app": name}, "clusterIP": "None",
				"ports": []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}}}}
	default:
		o = map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name},
			"data":     map[string]any{"color": "blue", "size": "large", "index": fmt.Sprint(i)}}
	}
	u := &unstructured.Unstructured{Object: o}
	u.SetNamespace(ns)
	return u
}

// change makes a real change to desired object i.
func change(u *unstructured.Unstructured, i int) {
	switch u.GetKind() {
	case "Deployment":
		c, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		c[0].(map[string]any)["image"] = fmt.Sprintf("nginx:1.%d", 28+i%3)
		_ = unstructured.SetNestedSlice(u.Object, c, "spec", "template", "spec", "containers")
	case "Service":
		p, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
		p[0].(map[string]any)["targetPort"] = int64(8081)
		_ = unstructured.SetNestedSlice(u.Object, p, "spec", "ports")
	default:
		delete(u.Object["data"].(map[string]any), "size")
	}
}

func setup(b *testing.B) *workload {
	once.Do(func() { shared = build(b) })
	if shared == nil {
		b.Fatal("workload setup failed")
	}
	return shared
}

func build(b *testing.B) *workload {
	cfg := cluster.Config(b)
	ns := cluster.NewNamespace(b)
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cfg)
	dc := discovery.NewDiscoveryClientForConfigOrDie(cfg)
	w := &workload{changed: object.NewSet()}
	for i := 0; i < pairs; i++ {
		w.desired = append(w.desired, desiredObject(ns, i))
	}
	// Apply everything with up to 16 requests in flight.
	sem := make(chan struct{}, 16)
	errs := make(chan error, pairs)
	var wg sync.WaitGroup
	for _, u := range w.desired {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := dyn.Resource(resources[u.GetKind()]).Namespace(ns).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: true})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	// One object in ten drifts, rotating over the kinds: half changed in Git, half
	// edited in the cluster by another manager (the apply would revert it).
	for i, u := range w.desired {
		if i%10 != (i/10)%10 {
			continue
		}
		w.changed.Add(object.IDOf(u))
		if (i/10)%2 == 0 {
			change(u, i)
			continue
		}
		live, err := dyn.Resource(resources[u.GetKind()]).Namespace(ns).Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		change(live, i)
		if _, err := dyn.Resource(resources[live.GetKind()]).Namespace(ns).Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			b.Fatal(err)
		}
	}
	for _, gvr := range resources {
		l, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range l.Items {
			item := l.Items[i]
			if gvr.Resource == "configmaps" && item.GetName() == "kube-root-ca.crt" {
				continue
			}
			w.live = append(w.live, &item)
		}
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	opts := diff.Options{FieldManager: manager, Force: true}
	var err error
	if w.server, err = diff.New(diff.NewServer(dyn, mapper), opts); err != nil {
		b.Fatal(err)
	}
	if w.offline, err = diff.New(diff.NewOffline(diff.NewClusterSchemas(dc.OpenAPIV3()), diff.OfflineOptions{}), opts); err != nil {
		b.Fatal(err)
	}
	// Warm the schema cache and the mapper.
	if _, err := w.offline.Plan(ctx, diff.Input{Desired: w.desired[:10], Live: w.live}); err != nil {
		b.Fatal(err)
	}
	if _, err := w.server.Plan(ctx, diff.Input{Desired: w.desired[:10], Live: w.live}); err != nil {
		b.Fatal(err)
	}
	return w
}

// score counts false positives and negatives of a plan against the real changes.
func (w *workload) score(p *diff.Plan) (fp, fn int) {
	for _, c := range p.Changes {
		switch {
		case c.Changed() && !w.changed.Has(c.ID):
			fp++
		case !c.Changed() && w.changed.Has(c.ID):
			fn++
		}
	}
	return fp, fn + p.Counts.Failed
}

func run(b *testing.B, d *diff.Differ, w *workload, workers int) (perObject time.Duration, fp, fn int) {
	ctx := context.Background()
	var p *diff.Plan
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err error
		if p, err = d.Plan(ctx, diff.Input{Desired: w.desired, Live: w.live, Workers: workers}); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	fp, fn = w.score(p)
	return elapsed / time.Duration(b.N*len(w.desired)), fp, fn
}

// offlinePerObject is the offline engine's time per object from the last
// BenchmarkOffline run, for the server benchmark's ratio.
var offlinePerObject time.Duration

// BenchmarkOffline diffs the 1,000 pairs with the offline engine on one worker.
func BenchmarkOffline(b *testing.B) {
	w := setup(b)
	per, fp, fn := run(b, w.offline, w, 1)
	offlinePerObject = per
	b.ReportMetric(float64(per.Nanoseconds()), "ns/object")
	b.ReportMetric(float64(fp), "false-positives")
	b.ReportMetric(float64(fn), "false-negatives")
	b.ReportMetric(float64(len(w.changed)), "real-changes")
}

// BenchmarkServer diffs the same pairs with the server-side engine (8 dry-run
// applies in flight) and reports its time relative to the offline engine.
func BenchmarkServer(b *testing.B) {
	w := setup(b)
	per, fp, fn := run(b, w.server, w, 8)
	b.ReportMetric(float64(per.Nanoseconds()), "ns/object")
	b.ReportMetric(float64(per*time.Duration(len(w.desired)))/1e6, "ms/set")
	b.ReportMetric(float64(fp), "false-positives")
	b.ReportMetric(float64(fn), "false-negatives")
	if offlinePerObject > 0 {
		b.ReportMetric(float64(per)/float64(offlinePerObject), "x-slower-than-offline")
	}
}
