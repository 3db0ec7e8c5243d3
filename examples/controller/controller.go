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
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/render/sops"
	"github.com/gitopskit/gitopskit/source/git"
)

// GitSyncReconciler reconciles GitSyncs with package reconcile: one pass per
// interval, in self-heal mode, and a status that says what was applied. A pass
// never waits for health: while the applied objects are not healthy yet the
// GitSync is requeued, so one worker serves every GitSync.
type GitSyncReconciler struct {
	Client client.Client
	// APIReader reads ServiceAccounts around the cache (nil means Client).
	APIReader client.Reader
	Config    *rest.Config
	Recorder  recorder.EventRecorder
	// CacheDir holds the Git cache, shared by every GitSync.
	CacheDir string
	// FieldManager applies the objects.
	FieldManager string
	// HealthPoll is the time between passes while the applied objects are not
	// healthy yet (default 5s, at most the interval).
	HealthPoll time.Duration
	// Shard, when set, makes this replica reconcile only its share of the
	// GitSyncs, each claimed for its pass.
	Shard *Shard

	// passHook, when set, is told when a pass of a GitSync starts and ends (tests).
	passHook func(key string, started bool)

	mu sync.Mutex
	// passes keeps a reconcile.Reconciler per GitSync, so that its remembered render
	// and applied revision survive between passes; it is rebuilt when the spec
	// changes.
	passes map[types.NamespacedName]*pass
}

type pass struct {
	generation int64
	keys       string // the digest of the decryption keys, "" without

	rec *reconcile.Reconciler
	// waitingSince is when the set started waiting for health (the last pass that
	// wrote, or the first that found it unhealthy); zero once healthy.
	waitingSince time.Time
}

// defaultTimeout bounds a pass and the wait for health without spec.timeout.
const defaultTimeout = time.Minute

// SetupWithManager registers the controller, with at most concurrent passes at
// once. Status updates do not trigger a pass: only spec changes, deletion and the
// interval do.
func (r *GitSyncReconciler) SetupWithManager(mgr ctrl.Manager, concurrent int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.GitSync{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: max(concurrent, 1),
			// A process may start a manager more than once (a restart in process,
			// tests); each has the one GitSync controller.
			SkipNameValidation: ptr.To(true),
		}).
		Complete(r)
}

// Reconcile runs one pass for a GitSync and records its outcome in the status and
// as an event. A failed pass is retried at the next interval; a set not healthy
// yet is looked at again after HealthPoll, until spec.timeout passes. A deleted
// GitSync is finalized (see finalize).
func (r *GitSyncReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if r.Shard != nil {
		// Another replica's share is looked at again after the membership is
		// renewed, in case it becomes ours.
		later := ctrl.Result{RequeueAfter: r.Shard.renewInterval()}
		if !r.Shard.Owns(req.String()) {
			return later, nil
		}
		release, ok, err := r.Shard.Claim(ctx, req.String())
		if err != nil || !ok {
			return later, err
		}
		defer release()
	}
	if r.passHook != nil {
		r.passHook(req.String(), true)
		defer r.passHook(req.String(), false)
	}
	var gs v1alpha1.GitSync
	if err := r.Client.Get(ctx, req.NamespacedName, &gs); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !gs.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &gs)
	}
	if !controllerutil.ContainsFinalizer(&gs, v1alpha1.Finalizer) {
		orig := gs.DeepCopy()
		controllerutil.AddFinalizer(&gs, v1alpha1.Finalizer)
		if err := r.Client.Patch(ctx, &gs, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to %s/%s: %w", gs.Namespace, gs.Name, err)
		}
	}
	interval := gs.Spec.Interval.Duration
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	timeout := timeoutOf(&gs)
	dec, err := r.decryptor(ctx, &gs)
	if err != nil {
		r.event(&gs, corev1.EventTypeWarning, "DecryptionFailed", err.Error())
		return ctrl.Result{RequeueAfter: interval}, r.setStatus(ctx, &gs, func(s *v1alpha1.GitSyncStatus) {
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, "DecryptionFailed", err.Error())
			setCondition(s, gs.Generation, v1alpha1.ConditionReconciling, metav1.ConditionFalse, "DecryptionFailed", "")
		})
	}
	p, err := r.passFor(&gs, dec)
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

	passCtx, cancel := context.WithTimeout(ctx, timeout)
	res, passErr := p.rec.Reconcile(passCtx)
	cancel()
	next := ctrl.Result{RequeueAfter: interval}
	wasUnhealthy := condition(gs.Status, v1alpha1.ConditionReady).Reason == "HealthCheckFailed"
	err = r.setStatus(ctx, &gs, func(s *v1alpha1.GitSyncStatus) {
		s.ObservedGeneration = gs.Generation
		if res != nil && res.Revision != "" {
			s.LastAttemptedRevision = res.Revision
		}
		setCondition(s, gs.Generation, v1alpha1.ConditionReconciling, metav1.ConditionFalse, "Done", "")
		if passErr != nil {
			reason := "ReconcileFailed"
			if st := reconcile.FailedStage(passErr); st != "" {
				reason = upperFirst(string(st)) + "Failed"
			}
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, passErr.Error())
			return
		}
		s.Inventory = inventory(res)
		now := time.Now()
		if res.Wrote || p.waitingSince.IsZero() {
			p.waitingSince = now
		}
		switch code := res.Health.Code; {
		case code == "" || code.Done():
			// As Flux's lastAppliedRevision: the revision counts once healthy.
			p.waitingSince = time.Time{}
			s.LastAppliedRevision = res.Revision
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionTrue, "Succeeded", "applied revision "+res.Revision)
		case code == health.Degraded:
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, "HealthCheckFailed", res.Health.String())
		case now.Sub(p.waitingSince) >= timeout:
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionFalse, "HealthCheckFailed",
				fmt.Sprintf("not healthy %v after applying revision %s: %s", timeout, res.Revision, res.Health))
		default:
			// Not healthy yet: look again soon, leaving the worker to other GitSyncs.
			setCondition(s, gs.Generation, v1alpha1.ConditionReady, metav1.ConditionUnknown, "Progressing",
				"waiting for health of revision "+res.Revision+": "+res.Health.String())
			setCondition(s, gs.Generation, v1alpha1.ConditionReconciling, metav1.ConditionTrue, "Progressing", "waiting for health")
			next.RequeueAfter = min(interval, r.healthPoll(), timeout-now.Sub(p.waitingSince))
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
	if ready := condition(gs.Status, v1alpha1.ConditionReady); ready.Reason == "HealthCheckFailed" && !wasUnhealthy {
		r.event(&gs, corev1.EventTypeWarning, "HealthCheckFailed", ready.Message)
	}
	return next, err
}

func (r *GitSyncReconciler) healthPoll() time.Duration {
	if r.HealthPoll > 0 {
		return r.HealthPoll
	}
	return 5 * time.Second
}

func timeoutOf(gs *v1alpha1.GitSync) time.Duration {
	if gs.Spec.Timeout != nil && gs.Spec.Timeout.Duration > 0 {
		return gs.Spec.Timeout.Duration
	}
	return defaultTimeout
}

// passFor returns the GitSync's reconciler, built again when its spec or its
// decryption keys changed, starting from the revision its status says was
// applied. dec, when set, decrypts SOPS files as they are rendered.
func (r *GitSyncReconciler) passFor(gs *v1alpha1.GitSync, dec *sops.Decryptor) (*pass, error) {
	key := types.NamespacedName{Namespace: gs.Namespace, Name: gs.Name}
	keys := ""
	var renderer render.Renderer = isolate.New(isolate.Options{Spec: isolate.DefaultSpec()})
	if dec != nil {
		keys = dec.Digest()
		renderer = sops.NewRenderer(renderer, dec)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.passes[key]; ok && p.generation == gs.Generation && p.keys == keys {
		return p, nil
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
	rec, err := reconcile.NewForConfig(r.configFor(gs),
		reconcile.Stages{Source: repo, Renderer: renderer},
		// No Wait: Reconcile requeues until the set is healthy instead.
		reconcile.Options{Cluster: r.clusterOptions(gs), Mode: reconcile.SelfHeal, Path: gs.Spec.Path, Prune: gs.Spec.Prune, LastApplied: gs.Status.LastAppliedRevision})
	if err != nil {
		return nil, err
	}
	if r.passes == nil {
		r.passes = map[types.NamespacedName]*pass{}
	}
	p := &pass{generation: gs.Generation, keys: keys, rec: rec}
	r.passes[key] = p
	return p, nil
}

// decryptor returns the Decryptor of gs's spec.decryption, or nil without one.
// The keys' Secret is read at every pass, with the rights the GitSync applies
// with (its ServiceAccount's, or the controller's), so a tenant decrypts only
// with a Secret it may read. Errors name the Secret, never a key.
func (r *GitSyncReconciler) decryptor(ctx context.Context, gs *v1alpha1.GitSync) (*sops.Decryptor, error) {
	d := gs.Spec.Decryption
	if d == nil {
		return nil, nil
	}
	if d.Provider != "sops" {
		return nil, fmt.Errorf("spec.decryption.provider %q: only sops is known", d.Provider)
	}
	var keys sops.Keys
	if d.SecretRef != nil {
		cs, err := kubernetes.NewForConfig(r.configFor(gs))
		if err != nil {
			return nil, err
		}
		s, err := cs.CoreV1().Secrets(gs.Namespace).Get(ctx, d.SecretRef.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("spec.decryption.secretRef: %w", err)
		}
		keys = sops.KeysFromData(s.Data)
	}
	dec, err := sops.New(sops.Options{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("spec.decryption.secretRef: %w", err)
	}
	return dec, nil
}

// clusterOptions are the cluster stages' options for gs.
func (r *GitSyncReconciler) clusterOptions(gs *v1alpha1.GitSync) reconcile.ClusterOptions {
	return reconcile.ClusterOptions{
		FieldManager: r.FieldManager,
		Inventory:    inventoryParent(gs),
		Force:        true, // self-heal takes back fields a manual edit changed
		Namespace:    gs.Namespace,
	}
}

// inventoryParent is the ApplySet parent recording the set, next to the GitSync:
// a ConfigMap, which a tenant's ServiceAccount that may write ConfigMaps of its
// namespace can keep without any right on Secrets.
func inventoryParent(gs *v1alpha1.GitSync) object.ID {
	return object.ID{Kind: "ConfigMap", Namespace: gs.Namespace, Name: "gitsync-" + gs.Name}
}

// configFor returns the configuration a GitSync's passes use: the controller's
// own, or with spec.serviceAccountName one impersonating that ServiceAccount, so
// the API server's RBAC limits what the repository may declare.
func (r *GitSyncReconciler) configFor(gs *v1alpha1.GitSync) *rest.Config {
	if gs.Spec.ServiceAccountName == "" {
		return r.Config
	}
	cfg := rest.CopyConfig(r.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: serviceAccountUser(gs.Namespace, gs.Spec.ServiceAccountName)}
	return cfg
}

// serviceAccountUser is the user name of a ServiceAccount as the API server
// authenticates it.
func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
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

// inventory lists the objects of the applied set.
func inventory(res *reconcile.Result) []string {
	if res.Plan == nil {
		return nil
	}
	var out []string
	for _, c := range res.Plan.Changes {
		if c.Action != diff.Delete {
			out = append(out, c.ID.String())
		}
	}
	return out
}

// condition returns the condition typ of s, or an empty one.
func condition(s v1alpha1.GitSyncStatus, typ string) metav1.Condition {
	if c := apimeta.FindStatusCondition(s.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{Type: typ, Status: metav1.ConditionUnknown}
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
