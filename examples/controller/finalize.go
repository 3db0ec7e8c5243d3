package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/reconcile"
)

// finalize runs when a GitSync is deleted, as Flux's kustomize-controller does:
// with spec.prune it deletes every member of the GitSync's inventory, in reverse
// apply order, through the same identity that applied them; without, it leaves
// them (orphans them). Then it deletes the inventory's parent and removes the
// finalizer. A GitSync that never reached the cluster is released at once, and so
// is one whose ServiceAccount is gone (nothing may prune in its name: an event
// says the objects stay). A failed prune keeps the finalizer and is retried.
func (r *GitSyncReconciler) finalize(ctx context.Context, gs *v1alpha1.GitSync) error {
	key := types.NamespacedName{Namespace: gs.Namespace, Name: gs.Name}
	if !controllerutil.ContainsFinalizer(gs, v1alpha1.Finalizer) {
		r.forget(key)
		return nil
	}
	if reached(gs) {
		if err := r.release(ctx, gs); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "finalize")
			r.event(gs, corev1.EventTypeWarning, "PruneFailed", err.Error())
			if serr := r.setStatus(ctx, gs, func(s *v1alpha1.GitSyncStatus) {
				setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, "PruneFailed", err.Error())
			}); serr != nil {
				err = errors.Join(err, serr)
			}
			return err
		}
	}
	orig := gs.DeepCopy()
	controllerutil.RemoveFinalizer(gs, v1alpha1.Finalizer)
	if err := r.Client.Patch(ctx, gs, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer of %s: %w", key, err)
	}
	r.forget(key)
	return nil
}

// reached reports whether a pass of gs may have written to the cluster: one got
// a revision (a failed fetch writes nothing) or recorded an inventory.
func reached(gs *v1alpha1.GitSync) bool {
	return gs.Status.LastAttemptedRevision != "" || len(gs.Status.Inventory) > 0
}

// release prunes or orphans the objects of a deleted GitSync and deletes its
// inventory's parent.
func (r *GitSyncReconciler) release(ctx context.Context, gs *v1alpha1.GitSync) error {
	if sa := gs.Spec.ServiceAccountName; sa != "" {
		reader := r.APIReader
		if reader == nil {
			reader = r.Client
		}
		err := reader.Get(ctx, types.NamespacedName{Namespace: gs.Namespace, Name: sa}, &corev1.ServiceAccount{})
		switch {
		case apierrors.IsNotFound(err):
			r.event(gs, corev1.EventTypeWarning, "Orphaned", fmt.Sprintf(
				"ServiceAccount %s/%s is gone: nothing prunes in its name, the applied objects and the inventory %s stay",
				gs.Namespace, sa, inventoryParent(gs).KubectlString()))
			return nil
		case err != nil:
			return fmt.Errorf("get ServiceAccount %s/%s: %w", gs.Namespace, sa, err)
		}
	}
	cfg := r.configFor(gs)
	if gs.Spec.Prune {
		clients, err := kube.NewForConfig(cfg, kube.Options{})
		if err != nil {
			return err
		}
		c, err := reconcile.NewCluster(clients, r.clusterOptions(gs))
		if err != nil {
			return err
		}
		// An empty desired set with pruning deletes every member, in reverse apply
		// order; a Namespace still holding objects the set did not apply is kept,
		// as in any prune.
		out, err := c.Prune(ctx, nil, reconcile.ApplyOptions{AllowEmpty: true})
		if err != nil {
			return fmt.Errorf("prune the objects of %s/%s: %w", gs.Namespace, gs.Name, err)
		}
		var pruned, kept []string
		for _, o := range out {
			switch o.Action {
			case apply.Pruned:
				pruned = append(pruned, o.ID.KubectlString())
			case apply.Skipped:
				kept = append(kept, o.ID.KubectlString()+" ("+o.Reason+")")
			}
		}
		note := fmt.Sprintf("deleted: %d objects pruned, in order: %s", len(pruned), firstFew(pruned))
		if len(kept) > 0 {
			note += "; kept " + firstFew(kept)
		}
		r.event(gs, corev1.EventTypeNormal, "Pruned", note)
	} else {
		r.event(gs, corev1.EventTypeNormal, "Orphaned", "deleted without spec.prune: the applied objects stay")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	parent := inventoryParent(gs)
	err = cs.CoreV1().ConfigMaps(parent.Namespace).Delete(ctx, parent.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete inventory %s: %w", parent, err)
	}
	return nil
}

// firstFew joins the first ten names and counts the others, so an event's note
// stays short.
func firstFew(names []string) string {
	const few = 10
	if len(names) <= few {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:few], ", "), len(names)-few)
}
