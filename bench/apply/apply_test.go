package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	fluxssa "github.com/fluxcd/pkg/ssa"
	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	// controller-runtime (under Flux's manager) prints a stack trace unless a logger is set.
	ctrllog.SetLogger(logr.Discard())
	cluster.Run(m)
}

const (
	namespaces  = 10
	perKind     = 34 // ConfigMaps per namespace; Services and Deployments get 33
	concurrency = 16 // requests in flight for every Go client
)

// workload returns 1,000 objects in the given namespaces.
func workload(nss []string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	add := func(s string) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
			panic(err)
		}
		out = append(out, u)
	}
	for _, ns := range nss {
		for i := 0; i < perKind; i++ {
			add(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: %s, labels: {app: a%d}}\ndata: {key: value-%d, other: \"x\"}\n", i, ns, i, i))
			if i == perKind-1 {
				continue
			}
			add(fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: %s, labels: {app: a%d}}\n"+
				"spec: {clusterIP: None, selector: {app: a%d}, ports: [{name: http, port: 80, targetPort: 8080}]}\n", i, ns, i, i))
			add(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: deploy-%d, namespace: %s, labels: {app: a%d}}
spec:
  replicas: 1
  selector: {matchLabels: {app: a%d}}
  template:
    metadata: {labels: {app: a%d}}
    spec:
      containers:
      - name: app
        image: registry.example/app:1.%d
        args: [--port=8080]
        ports: [{containerPort: 8080, name: http}]
        env: [{name: MODE, value: prod}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
`, i, ns, i, i, i, i))
		}
	}
	return out
}

func copies(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

// tool applies a set once.
type tool struct {
	name  string
	apply func(ctx context.Context, objs []*unstructured.Unstructured) error
}

func tools(b *testing.B, cfg *rest.Config) []tool {
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	gk, err := apply.NewForConfig(cfg, apply.Options{Concurrency: concurrency, FieldManager: "gitopskit"})
	if err != nil {
		b.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	flux := fluxssa.NewResourceManager(c, nil, fluxssa.Owner{Field: "flux", Group: "bench.example"})
	flux.SetConcurrency(concurrency)
	kubectl := kubectlPath(b)
	kubeconfig := cluster.KubeconfigPath(b)
	return []tool{
		{"gitopskit", func(ctx context.Context, objs []*unstructured.Unstructured) error {
			res, err := gk.Apply(ctx, objs, apply.ApplyOptions{})
			if err == nil && len(res.Warnings) > 0 {
				return fmt.Errorf("apply warned, the measurement is not of the fast path: %v", res.Warnings)
			}
			if err == nil && res.Count(apply.Unchanged) > 0 {
				// A re-apply must skip every write, or the no-op path is broken.
				written := 0
				for _, ev := range res.Events {
					if ev.Action != apply.Unchanged || ev.Reason == apply.WrittenUnchanged {
						written++
					}
				}
				if written > 0 {
					return fmt.Errorf("re-apply wrote %d objects: %v", written, res.Summary())
				}
			}
			return err
		}},
		{"flux", func(ctx context.Context, objs []*unstructured.Unstructured) error {
			_, err := flux.ApplyAllStaged(ctx, objs, fluxssa.DefaultApplyOptions())
			return err
		}},
		{"kubectl", func(ctx context.Context, objs []*unstructured.Unstructured) error {
			var buf strings.Builder
			for _, o := range objs {
				data, err := yaml.Marshal(o.Object)
				if err != nil {
					return err
				}
				buf.WriteString("---\n")
				buf.Write(data)
			}
			file := filepath.Join(b.TempDir(), "set.yaml")
			if err := os.WriteFile(file, []byte(buf.String()), 0o600); err != nil {
				return err
			}
			out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", file).CombinedOutput()
			if err != nil {
				return fmt.Errorf("kubectl: %v: %s", err, out)
			}
			return nil
		}},
		{"patch", func(ctx context.Context, objs []*unstructured.Unstructured) error {
			return rawPatch(ctx, dyn, mapper, objs)
		}},
	}
}

// rawPatch is the baseline: one server-side apply PATCH per object, concurrently,
// with no reads, ordering or comparisons.
func rawPatch(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, objs []*unstructured.Unstructured) error {
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	force := false
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return err
		}
		data, err := o.MarshalJSON()
		if err != nil {
			return err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.ApplyPatchType, data,
				metav1.PatchOptions{FieldManager: "raw", Force: &force})
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// freshNamespaces creates 10 new namespaces.
func freshNamespaces(b *testing.B, cs kubernetes.Interface, prefix string) []string {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	var out []string
	for i := 0; i < namespaces; i++ {
		name := fmt.Sprintf("%s-%s-%d", prefix, hex.EncodeToString(suffix), i)
		if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		out = append(out, name)
	}
	return out
}

// run applies the workload with every tool in each iteration, in fresh namespaces,
// timing either the first apply or, when reapply is set, a second apply of the same
// set, and reports each tool's time and the ratios.
func run(b *testing.B, reapply bool) {
	cfg := cluster.Config(b)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ts := tools(b, cfg)
	total := map[string]time.Duration{}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, t := range ts {
			b.StopTimer()
			objs := workload(freshNamespaces(b, cs, t.name))
			if len(objs) != 1000 {
				b.Fatalf("workload has %d objects", len(objs))
			}
			if reapply {
				if err := t.apply(ctx, copies(objs)); err != nil {
					b.Fatalf("%s: %v", t.name, err)
				}
			}
			in := copies(objs)
			b.StartTimer()
			start := time.Now()
			if err := t.apply(ctx, in); err != nil {
				b.Fatalf("%s: %v", t.name, err)
			}
			total[t.name] += time.Since(start)
		}
	}
	b.StopTimer()
	ms := func(name string) float64 { return float64(total[name].Milliseconds()) / float64(b.N) }
	names := make([]string, 0, len(total))
	for n := range total {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.ReportMetric(ms(n), n+"-ms/op")
	}
	b.ReportMetric(ms("flux")/ms("gitopskit"), "flux/gitopskit")
	b.ReportMetric(ms("kubectl")/ms("gitopskit"), "kubectl/gitopskit")
	b.ReportMetric(ms("gitopskit")/ms("patch"), "gitopskit/patch")
}

// BenchmarkApply1000 is the first apply of 1,000 objects.
func BenchmarkApply1000(b *testing.B) { run(b, false) }

// BenchmarkReapply1000 is the no-op re-apply of the same 1,000 objects.
func BenchmarkReapply1000(b *testing.B) { run(b, true) }

// kubectlPath finds the kubectl built with the control plane binaries.
func kubectlPath(b *testing.B) string {
	dirs := []string{os.Getenv("GITOPSKIT_CONTROLPLANE_DIR")}
	if cache, err := os.UserCacheDir(); err == nil {
		m, _ := filepath.Glob(filepath.Join(cache, "gitopskit", "controlplane", "kube-"+clustertest.KubernetesVersion+"_*"))
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "kubectl"); d != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	b.Skip("kubectl not found in the control plane directory")
	return ""
}
