package fleet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	fluxssa "github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source/git"
)

// gitopskit is gitopskit's answer to many sets on one cluster: a Reconciler per
// set, all sharing one live.Cache, a Group for a commit, and each set's pass woken
// by Cluster.Drifted between the ticks.
type gitopskit struct {
	interval time.Duration
	cache    *live.Cache
	group    *reconcile.Group
	recs     []*reconcile.Reconciler
	drifts   []<-chan struct{}
	logf     func(format string, args ...any)
}

func newGitopskit(b *testing.B, s *bench, cfg *rest.Config, ns string) *gitopskit {
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := &gitopskit{interval: s.interval, cache: live.New(clients, live.Options{}), logf: b.Logf}
	src := s.source(b)
	schemas := diff.NewClusterSchemas(clients.Discovery.OpenAPIV3()) // shared, as the cache is
	sets := make([]reconcile.Set, s.sets)
	for i := range s.sets {
		c, err := reconcile.NewCluster(clients, reconcile.ClusterOptions{
			FieldManager: "gitopskit",
			Force:        true, // take back the fields a manual edit took: self-heal
			Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: fmt.Sprintf("inventory-%03d", i)},
			Live:         g.cache,
			Schemas:      schemas,
		})
		if err != nil {
			b.Fatal(err)
		}
		rec, err := reconcile.New(reconcile.Stages{Source: src, Differ: c, Applier: c, Health: c}, reconcile.Options{
			Mode: reconcile.SelfHeal, Path: setDir(i), Prune: true, Wait: true,
			Transforms: []reconcile.Transformer{reconcile.RenderTransform(render.Transform{Namespace: ns, Mapper: c.Mapper()})},
		})
		if err != nil {
			b.Fatal(err)
		}
		g.recs = append(g.recs, rec)
		g.drifts = append(g.drifts, c.Drifted())
		sets[i] = reconcile.Set{Name: setDir(i), Runner: rec}
	}
	if g.group, err = reconcile.NewGroup(sets, reconcile.GroupOptions{}); err != nil {
		b.Fatal(err)
	}
	return g
}

func (g *gitopskit) converge(ctx context.Context) error {
	results, err := g.group.Reconcile(ctx)
	if err != nil {
		return err
	}
	var errs []error
	stages := map[reconcile.Stage]time.Duration{}
	var longest time.Duration
	for _, r := range results {
		if !r.Ready() || r.Result.Health.Code != "Healthy" {
			errs = append(errs, fmt.Errorf("%s: not healthy: %v", r.Name, r.Err))
		}
		if r.Result != nil {
			for st, d := range r.Result.Durations {
				stages[st] += d
			}
		}
		longest = max(longest, r.Duration)
	}
	// Where a set's pass spends its time, on average, and the longest pass.
	var line []string
	for st, d := range stages {
		line = append(line, fmt.Sprintf("%s %v", st, (d/time.Duration(len(results))).Round(time.Millisecond)))
	}
	slices.Sort(line)
	g.logf("gitopskit: mean per set: %s; longest pass %v", strings.Join(line, ", "), longest.Round(time.Millisecond))
	return errors.Join(errs...)
}

func (g *gitopskit) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i, drift := range g.drifts {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-drift:
					_, _ = g.recs[i].Reconcile(ctx)
				}
			}
		})
	}
	tick := time.NewTicker(g.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
			_, _ = g.group.Reconcile(ctx)
		}
	}
}

func (g *gitopskit) stop() { g.cache.Stop() }

// fluxLoop does what Flux's kustomize-controller does for each Kustomization
// with wait: true, on fluxcd/pkg/ssa as it does: at each interval, and when the
// source has a new revision, fetch, render, ApplyAllStaged (a server-side
// dry-run apply of every object, then an apply of those that differ), and
// WaitForSet (kstatus polling of every object). Four sets at once, the
// controller's default --concurrent. It leaves out what the controller adds
// (status patches, events, the artifact download, source-controller's own
// polling), so it undercounts Flux.
type fluxLoop struct {
	sets     int
	ns       string
	interval time.Duration
	src      *git.Repository
	mgr      *fluxssa.ResourceManager
	slots    chan struct{}
	opts     fluxssa.ApplyOptions
}

// fluxConcurrency is kustomize-controller's default --concurrent; fluxHealthPoll
// the interval its health check polls at.
const (
	fluxConcurrency = 4
	fluxHealthPoll  = 5 * time.Second
)

func newFluxLoop(b *testing.B, s *bench, cfg *rest.Config, ns string) *fluxLoop {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	poller := polling.NewStatusPoller(c, c.RESTMapper(), polling.Options{})
	mgr := fluxssa.NewResourceManager(c, poller, fluxssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"})
	mgr.SetConcurrency(fluxConcurrency) // --concurrent-ssa, 4 by default too
	// kustomize-controller undoes kubectl's edits by removing the field managers
	// named kubectl… (a prefix) and before-first-apply before it applies.
	opts := fluxssa.DefaultApplyOptions()
	opts.Cleanup = fluxssa.ApplyCleanupOptions{FieldManagers: []fluxssa.FieldManager{
		{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
		{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
		{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
	}}
	return &fluxLoop{sets: s.sets, ns: ns, interval: s.interval, src: s.source(b), mgr: mgr, slots: make(chan struct{}, fluxConcurrency), opts: opts}
}

func (f *fluxLoop) pass(ctx context.Context, i int) error {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-f.slots }()
	art, err := f.src.Fetch(ctx)
	if err != nil {
		return err
	}
	res, err := render.Plain{}.Render(ctx, render.Input{FS: art.FS, Dir: setDir(i), Digest: art.Digest}, render.Options{})
	if err != nil {
		return err
	}
	objs := object.Objects(res.Manifests)
	for _, o := range objs {
		o.SetNamespace(f.ns) // the Kustomization's targetNamespace
	}
	cs, err := f.mgr.ApplyAllStaged(ctx, objs, f.opts)
	if err != nil {
		return err
	}
	return f.mgr.WaitForSetWithContext(ctx, cs.ToObjMetadataSet(), fluxssa.WaitOptions{Interval: fluxHealthPoll, Timeout: 5 * time.Minute})
}

func (f *fluxLoop) converge(ctx context.Context) error {
	errs := make([]error, f.sets)
	var wg sync.WaitGroup
	for i := range f.sets {
		wg.Go(func() {
			if err := f.pass(ctx, i); err != nil {
				errs[i] = fmt.Errorf("%s: %w", setDir(i), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// run requeues each set at the interval after its last pass, from a random
// start within the first interval, as controller-runtime spreads them.
func (f *fluxLoop) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range f.sets {
		wg.Go(func() {
			wait := rand.N(f.interval)
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				_ = f.pass(ctx, i)
				wait = f.interval
			}
		})
	}
	wg.Wait()
}

func (f *fluxLoop) stop() {}
