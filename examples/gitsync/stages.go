package main

import (
	"fmt"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git"
)

// newReconciler wires the stages: a Git repository, a renderer for plain YAML,
// kustomizations and Helm charts, and the cluster stages of package reconcile.
func newReconciler(cfg *rest.Config, c config, out *printer) (*reconcile.Reconciler, error) {
	ref, err := parseRef(c.ref)
	if err != nil {
		return nil, err
	}
	mode, err := reconcile.ParseMode(c.mode)
	if err != nil {
		return nil, fmt.Errorf("--mode: %w", err)
	}
	ns, name, ok := strings.Cut(c.inventory, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("--inventory %q: want namespace/name", c.inventory)
	}
	// The renderers read the artifact through its fs.FS only, so a lazy checkout
	// (files read from the object cache, none written) serves: a new commit costs
	// what changed, not the size of the tree.
	auth, err := gitAuth(c.credentials)
	if err != nil {
		return nil, err
	}
	repo, err := git.New(git.Options{URL: c.repo, Ref: ref, Auth: auth, CacheDir: c.cacheDir, Checkout: git.CheckoutLazy})
	if err != nil {
		return nil, err
	}
	renderer := isolate.New(isolate.Options{Spec: isolate.DefaultSpec()}) // a child process: a hostile commit cannot end this one
	return reconcile.NewForConfig(cfg,
		reconcile.Stages{Source: repo, Renderer: renderer},
		reconcile.ClusterOptions{
			FieldManager: c.fieldManager,
			Inventory:    object.ID{Kind: "Secret", Namespace: ns, Name: name},
			Force:        c.force,
			Namespace:    c.namespace,
		},
		reconcile.Options{
			Mode:            mode,
			Path:            c.path,
			Prune:           c.prune,
			CreateNamespace: c.createNamespace,
			Wait:            true,
			HealthTimeout:   c.healthTimeout,
			OnEvent:         out.event,
		})
}
