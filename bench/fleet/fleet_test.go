package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// The fake nodes hold 250 pods each: enough for both tools' Deployments (three a
// set each) and their rollouts' surge.
var cluster = clustertest.New(clustertest.Options{CRDDirs: fluxCRDs(), DisableQPSLimits: os.Getenv("FLEETBENCH_DEFAULT_QPS") == "", Nodes: 2 + envInt("FLEETBENCH_SETS", defaultSets)*3*2*2/250})

func TestMain(m *testing.M) {
	// controller-runtime (under fluxcd/pkg/ssa) prints a stack trace unless a logger is set.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(cluster.Run(m))
}

const defaultSets = 20

// A tool reconciles the sets of the repository into one namespace.
type tool interface {
	// converge runs every set's pass now, as a commit webhook would, and returns
	// once each set is applied and healthy.
	converge(ctx context.Context) error
	// run reconciles every set at its interval (and, where the tool can, on
	// drift) until ctx ends.
	run(ctx context.Context)
	// stop releases what the tool holds.
	stop()
}

// outOfProcess is a tool that runs in processes of its own, whose CPU time and
// heap are read from those processes.
type outOfProcess interface {
	cpuSeconds() float64
	heapBytes() (float64, error)
}

// figures are one tool's measurements.
type figures struct {
	commitToHealthy time.Duration
	requestsPerMin  float64
	cpuPerMin       float64 // CPU seconds of this process per minute
	heapBytes       float64 // live heap held by the tool
	heal            time.Duration
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func setDir(i int) string { return fmt.Sprintf("sets/set-%03d", i) }

// setFiles returns n sets of ten objects without a namespace (each tool gives its
// own): four ConfigMaps, three Services and three Deployments; version is in every
// ConfigMap and in every Deployment's pod template, so a new version touches every
// set and rolls every Deployment out.
func setFiles(n, version int) map[string]string {
	out := map[string]string{}
	for i := range n {
		p := fmt.Sprintf("s%03d", i)
		for k := range 4 {
			out[fmt.Sprintf("%s/cm-%d.yaml", setDir(i), k)] = fmt.Sprintf(
				"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s-cm-%d}\ndata: {version: \"%d\"}\n", p, k, version)
		}
		for k := range 3 {
			app := fmt.Sprintf("%s-app-%d", p, k)
			out[fmt.Sprintf("%s/svc-%d.yaml", setDir(i), k)] = fmt.Sprintf(
				"apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {selector: {app: %s}, ports: [{name: http, port: 80, targetPort: 8080}]}\n", app, app)
			out[fmt.Sprintf("%s/deploy-%d.yaml", setDir(i), k)] = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
      - name: app
        image: registry.example/app:1
        env: [{name: VERSION, value: "%d"}]
`, app, app, app, version)
		}
	}
	return out
}

// counter is a reverse proxy on loopback in front of the API server that counts
// the requests a tool sends (a watch is one request). It serves plain HTTP and
// adds the cluster's credentials.
type counter struct {
	srv      *httptest.Server
	requests atomic.Int64
}

func newCounter(b *testing.B, cfg *rest.Config) *counter {
	target, err := url.Parse(cfg.Host)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c := &counter{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Authorization")
		},
		Transport:     rt,
		FlushInterval: -1,                         // watches stream
		ErrorLog:      log.New(io.Discard, "", 0), // a watch ended by its tool
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	b.Cleanup(func() {
		c.srv.CloseClientConnections()
		c.srv.Close()
	})
	return c
}

func (c *counter) config() *rest.Config {
	return &rest.Config{Host: c.srv.URL, QPS: 1000, Burst: 2000}
}

// cpuSeconds is the CPU time (user and system) this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// writeHeapProfile writes this process's heap profile to path, for
// `go tool pprof -sample_index=inuse_space`.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

func heapBytes() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc)
}

type bench struct {
	admin    *rest.Config
	cs       kubernetes.Interface
	repo     *gittest.Repo
	url      string
	sets     int
	version  int
	interval time.Duration
	window   time.Duration
}

func (s *bench) source(b *testing.B) *git.Repository {
	r, err := git.New(git.Options{URL: s.url, Ref: git.Ref{Branch: "main"}, CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func (s *bench) namespace(b *testing.B, prefix string) string {
	buf := make([]byte, 3)
	_, _ = rand.Read(buf)
	ns := prefix + "-" + hex.EncodeToString(buf)
	if _, err := s.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	return ns
}

// measure runs one tool through the workload: the first deploy, a commit that
// touches every set, the steady state, and a manual edit. The repository is at
// s.version when it starts.
func (s *bench) measure(b *testing.B, name, ns string, newTool func(cfg *rest.Config) tool) figures {
	ctx := context.Background()
	var f figures
	proxy := newCounter(b, s.admin)
	t := newTool(proxy.config())
	if err := t.converge(ctx); err != nil {
		b.Fatalf("%s: first deploy: %v", name, err)
	}

	s.version++
	s.repo.Commit(fmt.Sprintf("version %d", s.version), setFiles(s.sets, s.version))
	s.repo.Publish()
	start := time.Now()
	if err := t.converge(ctx); err != nil {
		b.Fatalf("%s: commit: %v", name, err)
	}
	f.commitToHealthy = time.Since(start)
	if ft, ok := t.(interface{ elapsed() time.Duration }); ok {
		// The tool's own record when it has one: to the second, rounded down
		// (in the tool's favour).
		f.commitToHealthy = ft.elapsed()
	}

	cpu := cpuSeconds
	ext, external := t.(outOfProcess)
	if external {
		cpu = ext.cpuSeconds
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { t.run(runCtx) })
	time.Sleep(5 * time.Second) // the passes woken by the commit's own writes
	req0, cpu0, start := proxy.requests.Load(), cpu(), time.Now()
	time.Sleep(s.window)
	minutes := time.Since(start).Minutes()
	f.requestsPerMin = float64(proxy.requests.Load()-req0) / minutes
	f.cpuPerMin = (cpu() - cpu0) / minutes
	held := heapBytes()
	if path := os.Getenv("FLEETBENCH_HEAPPROFILE"); path != "" && !external {
		writeHeapProfile(b, path+"."+name)
	}
	if external {
		var err error
		if f.heapBytes, err = ext.heapBytes(); err != nil {
			b.Fatalf("%s: heap: %v", name, err)
		}
	}

	f.heal = s.edit(b, ns)

	// The heap the tool held is what stopping it frees.
	cancel()
	wg.Wait()
	t.stop()
	t = nil
	if !external {
		time.Sleep(3 * time.Second) // watches and goroutines wind down
		f.heapBytes = held - heapBytes()
	}
	return f
}

// edit changes a ConfigMap of the first set behind the tool's back, as kubectl edit
// does, and returns the
// time until the tool put it back.
func (s *bench) edit(b *testing.B, ns string) time.Duration {
	ctx := context.Background()
	cms := s.cs.CoreV1().ConfigMaps(ns)
	want := strconv.Itoa(s.version)
	cm, err := cms.Get(ctx, "s000-cm-0", metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	cm.Data["version"] = "edited"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil { // as kubectl edit does
		b.Fatal(err)
	}
	start := time.Now()
	wait := envDuration("FLEETBENCH_HEAL_TIMEOUT", s.interval+time.Minute)
	for deadline := start.Add(wait); time.Now().Before(deadline); {
		cm, err := cms.Get(ctx, "s000-cm-0", metav1.GetOptions{})
		if err == nil && cm.Data["version"] == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, set := os.LookupEnv("FLEETBENCH_HEAL_TIMEOUT"); !set {
		b.Fatalf("the edit of %s/s000-cm-0 was not healed within %s", ns, wait)
	}
	// A tool that heals at its interval, longer than the wait: a lower bound.
	b.Logf("the edit of %s/s000-cm-0 was not healed within FLEETBENCH_HEAL_TIMEOUT=%s: its figure is a lower bound", ns, wait)
	return time.Since(start)
}

// BenchmarkFleet runs FLEETBENCH_SETS sets (default 20) of ten objects through
// gitopskit and through a loop over fluxcd/pkg/ssa shaped like Flux's
// kustomize-controller, one after the other on the same cluster and repository.
func BenchmarkFleet(b *testing.B) {
	admin := cluster.Config(b)
	s := &bench{
		admin:    admin,
		cs:       kubernetes.NewForConfigOrDie(admin),
		sets:     envInt("FLEETBENCH_SETS", defaultSets),
		interval: envDuration("FLEETBENCH_INTERVAL", 30*time.Second),
		window:   envDuration("FLEETBENCH_WINDOW", time.Minute),
	}
	s.repo = gittest.NewRepo(b, "", "fleet.git")
	s.repo.Commit("initial", setFiles(s.sets, s.version))
	s.repo.Publish()
	s.url = gittest.NewHTTPServer(b, s.repo.Root, gittest.HTTPOptions{}).URL + "/fleet.git"

	for range b.N {
		gkNS, flNS := s.namespace(b, "gk"), s.namespace(b, "fl")
		gk := s.measure(b, "gitopskit", gkNS, func(cfg *rest.Config) tool { return newGitopskit(b, s, cfg, gkNS) })
		var fl *figures
		switch {
		case os.Getenv("FLEETBENCH_FLUX") == "none": // gitopskit alone, at a scale Flux does not reach here
		case fluxDir() != "":
			f := s.measure(b, "flux", flNS, func(cfg *rest.Config) tool { return newFluxControllers(b, s, cfg, flNS) })
			fl = &f
		default:
			f := s.measure(b, "flux (ssa loop)", flNS, func(cfg *rest.Config) tool { return newFluxLoop(b, s, cfg, flNS) })
			fl = &f
		}
		report(b, s, gk, fl)
		for _, ns := range []string{gkNS, flNS} { // their pods leave room for the next run's
			if err := s.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// report logs and reports gk's figures and, when Flux ran (fl is not nil), its
// figures and the ratios.
func report(b *testing.B, s *bench, gk figures, fl *figures) {
	b.Logf("%d sets of 10 objects, interval %s, steady-state window %s", s.sets, s.interval, s.window)
	flux := "flux (ssa loop)"
	if fluxDir() != "" {
		flux = "flux"
	}
	if fl == nil {
		flux = "(not run)"
	}
	b.Logf("%-22s %12s %15s %10s", "", "gitopskit", flux, "gk/flux")
	row := func(what string, g float64, f func(figures) float64, unit string) {
		b.ReportMetric(g, "gitopskit-"+unit)
		if fl == nil {
			b.Logf("%-22s %12.3f", what, g)
			return
		}
		b.Logf("%-22s %12.3f %15.3f %10.3f", what, g, f(*fl), g/f(*fl))
		b.ReportMetric(f(*fl), "flux-"+unit)
		b.ReportMetric(g/f(*fl), unit+"-gitopskit/flux")
	}
	row("commit to healthy (s)", gk.commitToHealthy.Seconds(), func(f figures) float64 { return f.commitToHealthy.Seconds() }, "commit-to-healthy-s")
	row("requests per minute", gk.requestsPerMin, func(f figures) float64 { return f.requestsPerMin }, "requests/min")
	row("CPU s per minute", gk.cpuPerMin, func(f figures) float64 { return f.cpuPerMin }, "cpu-s/min")
	row("heap held (MB)", gk.heapBytes/1e6, func(f figures) float64 { return f.heapBytes / 1e6 }, "heap-MB")
	row("manual edit healed (s)", gk.heal.Seconds(), func(f figures) float64 { return f.heal.Seconds() }, "heal-s")
}
