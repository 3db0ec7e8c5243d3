package apply

import (
	"context"
	"errors"
	"time"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/kube"

	"github.com/gitopskit/gitopskit/object"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
)

// DefaultFieldManager is the field manager name used when [Options.FieldManager] is
// empty.
const DefaultFieldManager = "gitopskit"

// DefaultConcurrency is the number of concurrent requests when
// [Options.Concurrency] is zero.
const DefaultConcurrency = parallel.DefaultLimit

// DefaultCSAManagers are the field managers of client-side apply whose fields are
// migrated to the server-side apply field manager, as kubectl does. The diff
// package predicts the same migration by default.
var DefaultCSAManagers = ssa.DefaultCSAManagers

// WaveGate is called between batches with the objects of the batch just applied; an
// error stops the apply before the next batch. The health package provides one that
// waits until the objects are healthy.
type WaveGate func(ctx context.Context, ids []object.ID) error

// Options configure a [Manager].
type Options struct {
	// FieldManager names the owner of the applied fields (DefaultFieldManager).
	FieldManager string
	// Concurrency bounds the requests in flight (DefaultConcurrency).
	Concurrency int
	// CSAManagers are the client-side apply managers whose fields are migrated to
	// FieldManager on first server-side apply (DefaultCSAManagers). Set an empty,
	// non-nil slice to migrate nothing.
	CSAManagers []string
	// Logger receives debug logs; unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
	// Discovery lists the cluster's resource types. Pruning a Namespace needs it,
	// to find every object the namespace still holds. [New] sets it; without it a
	// Namespace that leaves the set is kept (reported as skipped), never deleted
	// unseen.
	Discovery discovery.ServerResourcesInterface
	// Metadata, when set, lists objects as metadata only (PartialObjectMetadata)
	// where only their identity, owners and labels are read: ApplySet members and
	// the objects a Namespace or CustomResourceDefinition about to be pruned still
	// holds. [New] sets it; without it those lists are read whole.
	Metadata metadata.Interface
}

// Manager applies sets of objects to one cluster with server-side apply. It is safe
// for concurrent use, but two applies of the same inventory at once race like two
// kubectl runs would: callers serialise them.
type Manager struct {
	client dynamic.Interface
	meta   metadata.Interface // Options.Metadata, maybe nil
	mapper meta.RESTMapper
	opts   Options
}

// NewForConfig returns a Manager for the cluster of cfg, with a RESTMapper that
// discovers kinds lazily and is reset after the apply of CustomResourceDefinitions.
func NewForConfig(cfg *rest.Config, opts Options) (*Manager, error) {
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return nil, err
	}
	if opts.Metadata == nil {
		opts.Metadata = c.Metadata
	}
	if opts.Discovery == nil {
		opts.Discovery = c.Discovery
	}
	return New(c.Dynamic, c.Mapper, opts)
}

// New returns a Manager that uses client and mapper. When mapper has a Reset
// method (like restmapper.DeferredDiscoveryRESTMapper), it is called after
// CustomResourceDefinitions become Established.
func New(client dynamic.Interface, mapper meta.RESTMapper, opts Options) (*Manager, error) {
	if client == nil || mapper == nil {
		return nil, errors.New("apply: client and mapper must not be nil")
	}
	if opts.FieldManager == "" {
		opts.FieldManager = DefaultFieldManager
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.CSAManagers == nil {
		opts.CSAManagers = DefaultCSAManagers
	}
	return &Manager{client: client, meta: opts.Metadata, mapper: mapper, opts: opts}, nil
}

// FieldManager returns the field manager name the Manager applies with.
func (m *Manager) FieldManager() string { return m.opts.FieldManager }

// ApplyOptions configure one [Manager.Apply].
type ApplyOptions struct {
	// Force takes fields owned by other field managers instead of failing with a
	// [*ConflictError].
	Force bool
	// DryRun sends every write as a server-side dry run: nothing is written, the
	// inventory is not updated, and pruning only reports what it would delete.
	DryRun bool
	// Recreate deletes and recreates objects whose immutable fields changed, for
	// every object (per object: the `gitopskit.io/recreate: enabled` annotation).
	Recreate bool
	// Adopt applies objects that are members of another inventory, taking them over.
	// Without it they fail with an [*OwnershipError].
	Adopt bool
	// Inventory records the members of the set. Nil means no inventory and no pruning.
	Inventory Inventory
	// Prune deletes members of Inventory that left the set, after every object was
	// applied without error: only those the field manager applied, and a Namespace
	// or CustomResourceDefinition only once nothing it holds stays (see
	// AllowPruneInUse).
	Prune bool
	// CreateNamespace creates, before anything else is applied, every namespace
	// that a namespaced object of the set or the inventory's parent (of an
	// [ApplySet]) uses and that neither exists nor is declared by the set, as Argo
	// CD's CreateNamespace=true and `helm --create-namespace` do. It is created by
	// server-side apply with the field manager and reported as created, but it is
	// not a member of the inventory, so it is never pruned. A dry run reports it
	// without creating it. Without it, an object whose namespace is missing fails
	// with an error that names the namespace, the object and this option, unless
	// the object is annotated with Argo CD's CreateNamespace=true sync option,
	// which does the same for its own namespace.
	CreateNamespace bool
	// AllowEmpty allows an empty set with an inventory (which prunes all its members).
	AllowEmpty bool
	// AllowPruneInUse prunes a Namespace or CustomResourceDefinition that left the
	// set even while it still holds objects that are not pruned with it: objects
	// the set keeps (the inventory's parent among them), objects annotated
	// prune-disabled, objects nobody in the set owns. Deleting it deletes every one
	// of them, and what they hold (a PersistentVolumeClaim's volume, every custom
	// resource of the definition): data loss no later apply undoes. Without it such
	// a Namespace or definition is kept, reported as skipped with the objects that
	// hold it, and stays in the inventory, to be pruned once it is empty.
	AllowPruneInUse bool
	// PropagationPolicy of prune deletes (Background when empty).
	PropagationPolicy metav1.DeletionPropagation
	// PruneWait, when positive, waits up to this long for pruned objects to be gone.
	PruneWait time.Duration
	// CRDTimeout bounds the wait for CustomResourceDefinitions to be Established
	// (one minute when zero).
	CRDTimeout time.Duration
	// WaveGate, when set, is called between batches.
	WaveGate WaveGate
	// OnEvent, when set, receives each event as it happens, from one goroutine at a time.
	OnEvent func(Event)
	// Hooks runs the set's hooks (objects annotated argocd.argoproj.io/hook or
	// helm.sh/hook, see [ParseHook]) in their phases instead of applying them as
	// members: PreSync hooks first (when one fails nothing is applied or pruned),
	// Sync hooks after the apply, PostSync hooks after the prune once the set is
	// healthy, SyncFail hooks when a phase failed; PreDelete and PostDelete hooks
	// around the prune of an empty set. Hooks are never members of the inventory.
	// Their events carry the Phase; [Result.Hooks] sums them up. Without Hooks,
	// hook objects are applied like any other.
	Hooks bool
	// Live, when set, gives the live copies of the set's objects, kept current by
	// watches (a live.Cache): the apply compares the objects with them instead of
	// listing each resource in each namespace of the set, which costs, for one set
	// among many in a namespace, the whole namespace. A copy that lags behind the
	// cluster at most makes a write that was needed look unneeded until the
	// watch's next event, which a watching caller reconciles again. Objects
	// created only if absent (SSAIfNotPresent) or replaced are read with a GET.
	// When Live fails, the apply lists as without it.
	Live Live
	// HookGate tells when a hook is done: nil when it succeeded, an error when it
	// failed or did not finish in time. It also waits for the set to be healthy
	// before the PostSync hooks. Hooks needs it (but in a dry run, which runs no
	// hook); health.Waiter.Gate with FailFast and a Timeout provides one.
	HookGate WaveGate
}
