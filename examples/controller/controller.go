package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/source/git"
)

// GitSyncReconciler reconciles GitSyncs with package reconcile: one pass per
// interval, in self-heal mode, and a status that says what was applied.
type GitSyncReconciler struct {
	Client   client.Client
	Config   *rest.Config
	Recorder recorder.EventRecorder
	// CacheDir holds the Git cache, shared by every GitSync.
	CacheDir string
	// FieldManager applies the objects.
	FieldManager string

	mu sync.Mutex
	// passes keeps a reconcile.Reconciler per GitSync, so that its remembered render
	// and applied revision survive between passes; it is rebuilt when the spec
	// changes.
	passes map[types.NamespacedName]*pass
}

type pass struct {
	generation int64
	rec        *reconcile.Reconciler
}

// SetupWithManager registers the controller. Status updates do not trigger a
// pass: only spec changes and the interval do.
func (r *GitSyncReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.GitSync{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// Reconcile runs one pass for a GitSync and records its outcome in the status and
// as an event. A failed pass is retried at the next interval.
func (r *GitSyncReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var gs v1alpha1.GitSync
	if err := r.Client.Get(ctx, req.NamespacedName, &gs); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	interval := gs.Spec.Interval.Duration
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	rec, err := r.reconcilerFor(&gs)
	if err != nil {
		r.event(&gs, corev1.EventTypeWarning, "InvalidSpec", err.Error())
		return ctrl.Result{}, r.setStatus(ctx, &gs, func(s *v1alpha1.GitSyncStatus) {
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, "InvalidSpec", err.Error())
			setCondition(s, gs.Generation, v1alpha1.ConditionReconciling, metav1.ConditionFalse, "InvalidSpec", "")
		})
	}
	if err := r.setStatus(ctx, &gs, func(s *v1alpha1.GitSyncStatus) {
		setCondition(s, gs.Generation, v1alpha1.ConditionReconciling, metav1.ConditionTrue, "Progressing", "reconciling")
	}); err != nil {
		return ctrl.Result{}, err
	}

	passCtx, cancel := context.WithTimeout(ctx, max(interval, time.Minute))
	res, passErr := rec.Reconcile(passCtx)
	cancel()
	err = r.setStatus(ctx, &gs, func(s *v1alpha1.GitSyncStatus) {
		s.ObservedGeneration = gs.Generation
		if res != nil {
			s.LastAttemptedRevision = res.Revision
		}
		s.LastAppliedRevision = rec.LastApplied()
		setCondition(s, gs.Generation, v1alpha1.ConditionReconciling, metav1.ConditionFalse, "Done", "")
		switch {
		case passErr != nil:
			reason := "ReconcileFailed"
			if st := reconcile.StageOf(passErr); st != "" {
				reason = upperFirst(string(st)) + "Failed"
			}
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, passErr.Error())
		case res.Health.Code != "" && !res.Health.Code.Done():
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, string(res.Health.Code), res.Health.String())
		default:
			s.Inventory = inventory(res)
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionTrue, "Succeeded", "applied revision "+res.Revision)
		}
	})
	switch {
	case passErr != nil:
		log.Error(passErr, "pass failed")
		r.event(&gs, corev1.EventTypeWarning, "ReconcileFailed", passErr.Error())
	case res.Wrote:
		r.event(&gs, corev1.EventTypeNormal, "Applied", fmt.Sprintf("revision %s: %d applied, %d pruned",
			res.Revision, len(res.Applied()), len(res.Pruned())))
	}
	return ctrl.Result{RequeueAfter: interval}, err
}

// reconcilerFor returns the GitSync's reconciler, built again when its spec changed.
func (r *GitSyncReconciler) reconcilerFor(gs *v1alpha1.GitSync) (*reconcile.Reconciler, error) {
	key := types.NamespacedName{Namespace: gs.Namespace, Name: gs.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.passes[key]; ok && p.generation == gs.Generation {
		return p.rec, nil
	}
	ref := gs.Spec.Ref
	repo, err := git.New(git.Options{
		URL:      gs.Spec.URL,
		Ref:      git.Ref{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Commit: ref.Commit},
		CacheDir: r.CacheDir,
		Checkout: git.CheckoutLazy, // rendering reads only through the artifact's fs.FS
	})
	if err != nil {
		return nil, err
	}
	rec, err := reconcile.NewForConfig(r.Config,
		reconcile.Stages{Source: repo, Renderer: isolate.New(isolate.Options{Spec: isolate.DefaultSpec()})},
		reconcile.ClusterOptions{
			FieldManager: r.FieldManager,
			// The ApplySet parent recording the set, next to the GitSync.
			Inventory: object.ID{Kind: "Secret", Namespace: gs.Namespace, Name: "gitsync-" + gs.Name},
			Force:     true, // self-heal takes back fields a manual edit changed
			Namespace: gs.Namespace,
		},
		reconcile.Options{Mode: reconcile.SelfHeal, Path: gs.Spec.Path, Prune: gs.Spec.Prune, Wait: true, HealthTimeout: time.Minute})
	if err != nil {
		return nil, err
	}
	if r.passes == nil {
		r.passes = map[types.NamespacedName]*pass{}
	}
	r.passes[key] = &pass{generation: gs.Generation, rec: rec}
	return rec, nil
}

func (r *GitSyncReconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.passes, key)
}

// setStatus changes the status with change and patches it.
func (r *GitSyncReconciler) setStatus(ctx context.Context, gs *v1alpha1.GitSync, change func(*v1alpha1.GitSyncStatus)) error {
	orig := gs.DeepCopy()
	change(&gs.Status)
	if err := r.Client.Status().Patch(ctx, gs, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("update status of %s/%s: %w", gs.Namespace, gs.Name, err)
	}
	return nil
}

func (r *GitSyncReconciler) event(gs *v1alpha1.GitSync, typ, reason, note string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(gs, nil, typ, reason, "Reconcile", "%s", note)
	}
}

// inventory lists the objects of the desired set.
func inventory(res *reconcile.Result) []string {
	if res.Plan == nil {
		return nil
	}
	var out []string
	for _, c := range res.Plan.Changes {
		if c.Action != reconcile.Delete {
			out = append(out, c.ID.String())
		}
	}
	return out
}

func setCondition(s *v1alpha1.GitSyncStatus, generation int64, typ string, status metav1.ConditionStatus, reason, msg string) {
	apimeta.SetStatusCondition(&s.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation,
	})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
