package main

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git"
)

// newReconciler wires the stages: a Git repository, a renderer for plain YAML,
// kustomizations and Helm charts, and the cluster stages of package reconcile.
func newReconciler(cfg *rest.Config, c config, out *printer) (*reconcile.Reconciler, <-chan struct{}, error) {
	ref, err := parseRef(c.ref)
	if err != nil {
		return nil, nil, err
	}
	mode, err := reconcile.ParseMode(c.mode)
	if err != nil {
		return nil, nil, fmt.Errorf("--mode: %w", err)
	}
	ns, name, ok := strings.Cut(c.inventory, "/")
	if !ok || ns == "" || name == "" {
		return nil, nil, fmt.Errorf("--inventory %q: want namespace/name", c.inventory)
	}
	// The renderers read the artifact through its fs.FS only, so a lazy checkout
	// (files read from the object cache, none written) serves: a new commit costs
	// what changed, not the size of the tree.
	auth, err := gitAuth(c.credentials)
	if err != nil {
		return nil, nil, err
	}
	repo, err := git.New(git.Options{URL: c.repo, Ref: ref, Auth: auth, CacheDir: c.cacheDir, Checkout: git.CheckoutLazy, Logger: out.log})
	if err != nil {
		return nil, nil, err
	}
	renderer, err := decrypting(isolate.New(isolate.Options{Spec: isolate.DefaultSpec()}), c.decryptionKeys) // a child process: a hostile commit cannot end this one
	if err != nil {
		return nil, nil, err
	}
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return nil, nil, err
	}
	copts := reconcile.ClusterOptions{
		FieldManager: c.fieldManager,
		Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: name},
		Force:        c.force,
	}
	if !c.once {
		// The live state from watches: a steady-state pass sends no request, and
		// a change to an object of the set wakes the next pass at once.
		copts.Live = live.New(clients, live.Options{Logger: out.log})
	}
	cluster, err := reconcile.NewCluster(clients, copts)
	if err != nil {
		return nil, nil, err
	}
	opts := reconcile.Options{
		Mode:            mode,
		Path:            c.path,
		Prune:           c.prune,
		CreateNamespace: c.createNamespace,
		Wait:            true,
		HealthTimeout:   c.healthTimeout,
		OnEvent:         out.event,
		Logger:          out.log,
	}
	if c.namespace != "" {
		opts.Transforms = []reconcile.Transformer{reconcile.RenderTransform(render.Transform{Namespace: c.namespace, Mapper: cluster.Mapper()})}
	}
	rec, err := reconcile.New(reconcile.Stages{
		Source:   repo,
		Renderer: renderer,
		Differ:   plannedDiffer{cluster, out.planned},
		Applier:  safeApplier{cluster},
		Health:   cluster,
	}, opts)
	return rec, cluster.Drifted(), err
}

// plannedDiffer hands each plan to onPlan, which the printer uses to show the
// fields an apply changes.
type plannedDiffer struct {
	reconcile.Differ
	onPlan func(*diff.Plan)
}

func (d plannedDiffer) Diff(ctx context.Context, desired []*unstructured.Unstructured) (*diff.Plan, error) {
	plan, err := d.Differ.Diff(ctx, desired)
	d.onPlan(plan)
	return plan, err
}

// safeApplier runs each apply and prune to its end even when ctx is cancelled on
// the way (a shutdown): the pass stops at the next stage instead, so that a
// shutdown never leaves an apply half done without saying so. It still refuses
// to start once ctx is done.
type safeApplier struct{ reconcile.Applier }

func (a safeApplier) Apply(ctx context.Context, desired []*unstructured.Unstructured, opts reconcile.ApplyOptions) ([]apply.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.Applier.Apply(context.WithoutCancel(ctx), desired, opts)
}

func (a safeApplier) Prune(ctx context.Context, desired []*unstructured.Unstructured, opts reconcile.ApplyOptions) ([]apply.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.Applier.Prune(context.WithoutCancel(ctx), desired, opts)
}
