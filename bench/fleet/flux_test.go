package fleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// fluxDir is the directory hack/flux.sh built Flux's controllers and copied their
// CRDs into (`make flux` prints it), or "" to measure the fluxcd/pkg/ssa loop
// instead.
func fluxDir() string { return os.Getenv("GITOPSKIT_FLUX_DIR") }

// fluxCRDs are the CRD directories the cluster starts with.
func fluxCRDs() []string {
	if d := fluxDir(); d != "" {
		return []string{filepath.Join(d, "crds")}
	}
	return nil
}

var (
	gitRepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizations  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// fluxControllers are Flux's own source-controller and kustomize-controller,
// each a process of its own talking to the cluster through the counting proxy,
// with their defaults (kustomize-controller's --concurrent=4, its 5 s health
// polling). The repository is one GitRepository; each set is a Kustomization
// with prune and wait, its interval the benchmark's. A commit is announced as
// `flux reconcile source git` and the notification-controller's Receiver do it:
// the GitRepository's reconcile.fluxcd.io/requestedAt annotation.
type fluxControllers struct {
	s    *bench
	logf func(format string, args ...any)
	// triggered is when the last converge's request reached the API server, and
	// readyAt when its last Kustomization turned Ready, as the controller wrote
	// it (to the second).
	triggered, readyAt time.Time
	ns                 string
	dyn                dynamic.Interface
	procs              []*exec.Cmd
	exits              []chan struct{} // closed when a controller exits
	logs               []string
	// metrics are the controllers' Prometheus endpoints.
	metrics []string
}

func newFluxControllers(b *testing.B, s *bench, cfg *rest.Config, ns string) *fluxControllers {
	dir := fluxDir()
	tmp := b.TempDir()
	kubeconfig := filepath.Join(tmp, "kubeconfig")
	if err := os.WriteFile(kubeconfig, fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, cfg.Host), 0o600); err != nil {
		b.Fatal(err)
	}
	f := &fluxControllers{s: s, logf: b.Logf, ns: ns, dyn: dynamic.NewForConfigOrDie(s.admin)}
	storage := freePort(b)
	if err := os.Mkdir(filepath.Join(tmp, "storage"), 0o700); err != nil {
		b.Fatal(err)
	}
	start := func(name string, args ...string) {
		metrics, health := freePort(b), freePort(b)
		logFile := filepath.Join(tmp, name+".log")
		out, err := os.Create(logFile)
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(filepath.Join(dir, name), append([]string{
			"--metrics-addr=" + metrics, "--health-addr=" + health,
			"--enable-leader-election=false", "--log-level=" + logLevel(),
		}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+ns)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			b.Fatalf("start %s: %v", name, err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			out.Close()
			close(exited)
		}()
		f.procs = append(f.procs, cmd)
		f.exits = append(f.exits, exited)
		f.logs = append(f.logs, logFile)
		f.metrics = append(f.metrics, "http://"+metrics+"/metrics")
		b.Cleanup(f.stop)
	}
	start("source-controller", "--storage-path="+filepath.Join(tmp, "storage"),
		"--storage-addr="+storage, "--storage-adv-addr="+storage)
	start("kustomize-controller")

	ctx := context.Background()
	repo := fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: %s}
spec: {interval: %s, url: %q, ref: {branch: main}}
`, ns, s.interval, s.url)
	f.create(b, ctx, gitRepositories, repo)
	for i := range s.sets {
		f.create(b, ctx, kustomizations, fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: set-%03d, namespace: %s}
spec:
  interval: %s
  timeout: 5m
  path: ./%s
  prune: true
  wait: true
  targetNamespace: %s
  sourceRef: {kind: GitRepository, name: fleet}
`, i, ns, s.interval, setDir(i), ns))
	}
	return f
}

func (f *fluxControllers) create(b *testing.B, ctx context.Context, gvr schema.GroupVersionResource, doc string) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		b.Fatal(err)
	}
	if _, err := f.dyn.Resource(gvr).Namespace(f.ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
}

// converge asks source-controller for the new revision and waits until every
// Kustomization applied it and is Ready (with wait: true, healthy).
func (f *fluxControllers) converge(ctx context.Context) error {
	want := "main@sha1:" + strings.TrimSpace(f.s.repo.Git("rev-parse", "HEAD"))
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
	if _, err := f.dyn.Resource(gitRepositories).Namespace(f.ns).Patch(ctx, "fleet", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return err
	}
	start := time.Now()
	f.triggered, f.readyAt = start, time.Time{}
	// Four at a time, each waiting through 5 s polls: a few seconds a set.
	deadline := start.Add(15*time.Minute + time.Duration(f.s.sets)*3*time.Second)
	var fetched time.Duration
	doneAt := map[string]time.Duration{}
	for {
		if fetched == 0 {
			r, err := f.dyn.Resource(gitRepositories).Namespace(f.ns).Get(ctx, "fleet", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if rev, _, _ := unstructured.NestedString(r.Object, "status", "artifact", "revision"); rev == want {
				fetched = time.Since(start)
			}
		}
		l, err := f.dyn.Resource(kustomizations).Namespace(f.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		// A Kustomization is done once seen Ready at the revision: at a short
		// interval the controller takes the first ones up again (Ready Unknown
		// while it runs) before it reaches the last.
		var last string
		for _, k := range l.Items {
			applied, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision")
			if applied == want && ready(&k) {
				if _, ok := doneAt[k.GetName()]; !ok {
					doneAt[k.GetName()] = time.Since(start)
					// When it turned Ready, as the controller wrote it: read now,
					// since its next interval's pass moves it again.
					f.readyAt = later(f.readyAt, readySince(&k))
				}
			} else {
				last = fmt.Sprintf("%s: applied %q, ready %v", k.GetName(), applied, ready(&k))
			}
		}
		done := len(doneAt)
		if done == f.s.sets {
			times := slices.Sorted(maps.Values(doneAt))
			f.logf("flux: artifact at %v; Kustomizations ready: first %v, median %v, last %v", fetched.Round(time.Millisecond),
				times[0].Round(time.Millisecond), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
			return nil
		}
		for i, exited := range f.exits {
			select {
			case <-exited:
				return fmt.Errorf("%s exited: %s", filepath.Base(f.procs[i].Path), f.tail())
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d Kustomizations at %s and Ready; %s; logs: %s", done, f.s.sets, want, last, f.tail())
		}
		// Each look lists every Kustomization: not so often that the
		// benchmark's own reads load the API server the controllers use.
		time.Sleep(max(100*time.Millisecond, time.Duration(f.s.sets)*2*time.Millisecond))
	}
}

// ready reports whether k's Ready condition is True for its current generation.
func ready(k *unstructured.Unstructured) bool {
	observed, _, _ := unstructured.NestedInt64(k.Object, "status", "observedGeneration")
	if observed != k.GetGeneration() {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(k.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

// elapsed is the time from the last converge's request to the controllers to
// every set healthy, as the controllers recorded it. Neither the request's wait
// in the API server's fairness queues (the benchmark shares a user, so a flow,
// with the controllers, which a Receiver would not) nor what the benchmark's
// own polling saw later is Flux's time.
func (f *fluxControllers) elapsed() time.Duration { return f.readyAt.Sub(f.triggered) }

// readySince is when k's Ready condition last changed.
func readySince(k *unstructured.Unstructured) time.Time {
	conds, _, _ := unstructured.NestedSlice(k.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			s, _ := m["lastTransitionTime"].(string)
			t, _ := time.Parse(time.RFC3339, s)
			return t
		}
	}
	return time.Time{}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// run leaves the controllers to their intervals and watches.
func (f *fluxControllers) run(ctx context.Context) { <-ctx.Done() }

// stop kills the controllers and drops their finalizers, so that the namespace
// can be deleted without them.
func (f *fluxControllers) stop() {
	for i, p := range f.procs {
		_ = p.Process.Kill()
		<-f.exits[i]
	}
	ctx := context.Background()
	for _, gvr := range []schema.GroupVersionResource{gitRepositories, kustomizations} {
		l, err := f.dyn.Resource(gvr).Namespace(f.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for _, o := range l.Items {
			_, _ = f.dyn.Resource(gvr).Namespace(f.ns).Patch(ctx, o.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	}
}

// cpuSeconds is the CPU time (user and system) the controllers have used.
func (f *fluxControllers) cpuSeconds() float64 {
	var sum float64
	for _, p := range f.procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Process.Pid))
		if err != nil {
			continue
		}
		// The fields after the command's ")" : state is field 3, utime 14, stime 15.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		for _, i := range []int{11, 12} {
			ticks, _ := strconv.ParseFloat(fields[i], 64)
			sum += ticks / 100 // USER_HZ
		}
	}
	return sum
}

// heapBytes is the live heap of the controllers, from their metrics
// (go_memstats_heap_alloc_bytes).
func (f *fluxControllers) heapBytes() (float64, error) {
	var sum float64
	for _, m := range f.metrics {
		resp, err := http.Get(m)
		if err != nil {
			return 0, err
		}
		found := false
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_alloc_bytes "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return 0, err
				}
				sum += n
				found = true
			}
		}
		resp.Body.Close()
		if !found {
			return 0, errors.New(m + ": no go_memstats_heap_alloc_bytes")
		}
	}
	return sum, nil
}

// tail returns the end of the controllers' logs, for an error.
func (f *fluxControllers) tail() string {
	var out []string
	for _, l := range f.logs {
		b, _ := os.ReadFile(l)
		if len(b) > 2000 {
			b = b[len(b)-2000:]
		}
		out = append(out, filepath.Base(l)+": "+string(b))
	}
	return strings.Join(out, "\n")
}

func freePort(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// logLevel is the controllers' log level: FLEETBENCH_FLUX_LOG, or error.
func logLevel() string {
	if l := os.Getenv("FLEETBENCH_FLUX_LOG"); l != "" {
		return l
	}
	return "error"
}
