package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	fluxssa "github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	// controller-runtime (under Flux's manager) prints a stack trace unless a logger is set.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(cluster.Run(m))
}

const (
	namespaces = 10
	perKind    = 50 // ConfigMaps and Services per namespace: 1,000 objects
)

// countingTransport counts the requests sent to the API server.
type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func counted(cfg *rest.Config) (*rest.Config, *atomic.Int64) {
	n := &atomic.Int64{}
	cfg = rest.CopyConfig(cfg)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingTransport{n: n, next: rt} }
	return cfg, n
}

// files returns the 1,000 objects of a tool's directory, one file each, in
// namespaces prefix-0 … prefix-9; version[i] is ConfigMap i's data.
func files(dir, prefix string, version func(i int) int) map[string]string {
	out := map[string]string{}
	for n := range namespaces {
		ns := fmt.Sprintf("%s-%d", prefix, n)
		for i := range perKind {
			k := n*perKind + i
			out[fmt.Sprintf("%s/%s/cm-%d.yaml", dir, ns, i)] = fmt.Sprintf(
				"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: %s, labels: {app: a%d}}\ndata: {version: \"%d\", payload: %q}\n",
				i, ns, i, version(k), fmt.Sprintf("payload-%04d", k))
			out[fmt.Sprintf("%s/%s/svc-%d.yaml", dir, ns, i)] = fmt.Sprintf(
				"apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: %s}\nspec: {clusterIP: None, selector: {app: a%d}, ports: [{name: http, port: 80, targetPort: 8080}]}\n",
				i, ns, i)
		}
	}
	return out
}

type bench struct {
	cfg  *rest.Config
	repo *gittest.Repo
	url  string
	cs   kubernetes.Interface
}

// uniquePrefix makes namespace prefixes unique across the runs of a benchmark
// function (the framework calls it again for each b.N).
func uniquePrefix(prefix string) string {
	buf := make([]byte, 3)
	_, _ = rand.Read(buf)
	return prefix + hex.EncodeToString(buf)
}

func setup(b *testing.B, prefix string) *bench {
	b.Helper()
	cfg := cluster.Config(b)
	cs := kubernetes.NewForConfigOrDie(cfg)
	for n := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, n)}}
		if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	repo := gittest.NewRepo(b, "", "app.git")
	repo.Commit("initial", files("deploy", prefix, func(int) int { return 0 }))
	repo.Publish()
	srv := gittest.NewHTTPServer(b, repo.Root, gittest.HTTPOptions{})
	return &bench{cfg: cfg, repo: repo, url: srv.URL + "/app.git", cs: cs}
}

func (s *bench) source(b *testing.B) *git.Repository {
	r, err := git.New(git.Options{URL: s.url, Ref: git.Ref{Branch: "main"}, CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func (s *bench) gitopskit(b *testing.B, prefix string, cfg *rest.Config, wait bool) *reconcile.Reconciler {
	rec, err := reconcile.NewForConfig(cfg, reconcile.Stages{Source: s.source(b)},
		reconcile.Options{Cluster: reconcile.ClusterOptions{FieldManager: "gitopskit", Inventory: object.ID{Kind: "Secret", Namespace: prefix + "-0", Name: "inventory"}}, Mode: reconcile.SelfHeal, Path: "deploy", Prune: true, Wait: wait})
	if err != nil {
		b.Fatal(err)
	}
	return rec
}

// fluxPass is the same pass built on fluxcd/pkg/ssa, as Flux's kustomize-controller
// does it: fetch, render (cached like gitopskit's), and ApplyAllStaged, which sends
// a server-side dry-run apply for every object and applies those that differ.
type fluxPass struct {
	src    *git.Repository
	render *render.Cache
	mgr    *fluxssa.ResourceManager
}

func (s *bench) flux(b *testing.B, cfg *rest.Config) *fluxPass {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	mgr := fluxssa.NewResourceManager(c, nil, fluxssa.Owner{Field: "flux", Group: "bench.example"})
	mgr.SetConcurrency(16)
	return &fluxPass{src: s.source(b), render: render.NewCache(render.Plain{}, 0), mgr: mgr}
}

func (f *fluxPass) pass(ctx context.Context) (*fluxssa.ChangeSet, error) {
	art, err := f.src.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	res, err := f.render.Render(ctx, render.Input{FS: art.FS, Dir: "deploy", Digest: art.Digest}, render.Options{})
	if err != nil {
		return nil, err
	}
	return f.mgr.ApplyAllStaged(ctx, object.Objects(res.Manifests), fluxssa.DefaultApplyOptions())
}

func changed(cs *fluxssa.ChangeSet) int {
	n := 0
	for _, e := range cs.Entries {
		if e.Action != fluxssa.UnchangedAction {
			n++
		}
	}
	return n
}

// BenchmarkSteadyState1000 times a pass over an unchanged repository of 1,000
// objects, after a first pass applied them, and counts the API requests of a pass.
func BenchmarkSteadyState1000(b *testing.B) {
	ctx := context.Background()
	gkPrefix, flPrefix := uniquePrefix("gk"), uniquePrefix("fl")
	gk := setup(b, gkPrefix)
	gkCfg, gkReq := counted(gk.cfg)
	rec := gk.gitopskit(b, gkPrefix, gkCfg, false)
	if res, err := rec.Reconcile(ctx); err != nil || len(res.Applied()) != 2*namespaces*perKind {
		b.Fatalf("first gitopskit pass: %v", err)
	}
	fl := setup(b, flPrefix)
	flCfg, flReq := counted(fl.cfg)
	flux := fl.flux(b, flCfg)
	if _, err := flux.pass(ctx); err != nil {
		b.Fatalf("first flux pass: %v", err)
	}

	var gkTime, flTime time.Duration
	var gkN, flN int64
	stages := map[reconcile.Stage]time.Duration{}
	b.ResetTimer()
	for range b.N {
		gkReq.Store(0)
		start := time.Now()
		res, err := rec.Reconcile(ctx)
		gkTime += time.Since(start)
		gkN += gkReq.Load()
		for st, d := range res.Durations {
			stages[st] += d
		}
		if err != nil || !res.InSync() || res.Wrote || res.Rendered {
			b.Fatalf("gitopskit steady state: %v drift=%v wrote=%v rendered=%v", err, res.Drift, res.Wrote, res.Rendered)
		}

		flReq.Store(0)
		start = time.Now()
		cs, err := flux.pass(ctx)
		flTime += time.Since(start)
		flN += flReq.Load()
		if err != nil || changed(cs) != 0 {
			b.Fatalf("flux steady state: %v, %d changed", err, changed(cs))
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(gkTime.Milliseconds())/n, "gitopskit-ms/op")
	b.ReportMetric(float64(flTime.Milliseconds())/n, "flux-ms/op")
	b.ReportMetric(float64(flTime)/float64(gkTime), "flux/gitopskit")
	b.ReportMetric(float64(gkN)/n, "gitopskit-requests/op")
	for st, d := range stages {
		b.ReportMetric(float64(d.Microseconds())/1000/n, "gitopskit-"+string(st)+"-ms/op")
	}
	b.ReportMetric(float64(flN)/n, "flux-requests/op")
}

// BenchmarkCommitToHealthy100 times a pass after a commit that changes 100 of the
// 1,000 objects, until they are applied and the set is healthy (gitopskit), and
// until they are applied (Flux's manager, which does not wait here).
func BenchmarkCommitToHealthy100(b *testing.B) {
	ctx := context.Background()
	gkPrefix, flPrefix := uniquePrefix("gkc"), uniquePrefix("flc")
	gk := setup(b, gkPrefix)
	rec := gk.gitopskit(b, gkPrefix, gk.cfg, true)
	if _, err := rec.Reconcile(ctx); err != nil {
		b.Fatal(err)
	}
	fl := setup(b, flPrefix)
	flux := fl.flux(b, fl.cfg)
	if _, err := flux.pass(ctx); err != nil {
		b.Fatal(err)
	}
	var gkTime, flTime time.Duration
	b.ResetTimer()
	for it := 1; it <= b.N; it++ {
		b.StopTimer()
		version := func(k int) int {
			if k%5 == 0 { // every fifth of the 500 ConfigMaps: 100 objects
				return it
			}
			return 0
		}
		for _, s := range []struct {
			b      *bench
			prefix string
		}{{gk, gkPrefix}, {fl, flPrefix}} {
			s.b.repo.Commit(fmt.Sprintf("change %d", it), files("deploy", s.prefix, version))
			s.b.repo.Publish()
		}
		b.StartTimer()

		start := time.Now()
		res, err := rec.Reconcile(ctx)
		gkTime += time.Since(start)
		if err != nil || len(res.Applied()) != 100 || res.Health.Code != "Healthy" {
			b.Fatalf("gitopskit: %v, applied %d, health %v", err, len(res.Applied()), res.Health)
		}
		start = time.Now()
		cs, err := flux.pass(ctx)
		flTime += time.Since(start)
		if err != nil || changed(cs) != 100 {
			b.Fatalf("flux: %v, %d changed", err, changed(cs))
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(gkTime.Milliseconds())/n, "gitopskit-commit-to-healthy-ms/op")
	b.ReportMetric(float64(flTime.Milliseconds())/n, "flux-commit-to-applied-ms/op")
}
