package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/internal/scope"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

// ClusterOptions configure the cluster stages of [NewCluster].
type ClusterOptions struct {
	// FieldManager applies and diffs (default apply.DefaultFieldManager).
	FieldManager string
	// Inventory is the parent object of the ApplySet recording the set's members
	// (a Secret or ConfigMap needs a namespace). The zero ID means no inventory:
	// nothing can be pruned.
	Inventory object.ID
	// Force lets the apply take fields other managers own (a manual `kubectl edit`
	// takes the fields it changes): what self-healing needs. Without it applying
	// such a field fails with a conflict naming the field and its manager. The diff
	// reports the field as drift either way.
	Force bool
	// ServerDiff diffs with server-side dry-run applies (one request per object),
	// the ground truth, instead of the offline engine typed by the cluster's
	// OpenAPI schemas.
	ServerDiff bool
	// Ignore removes fields from the diff.
	Ignore []diff.IgnoreRule
	// Namespace, when set, is given to namespaced objects without one (a
	// render.Transform with the cluster's RESTMapper, run before other transforms).
	Namespace string
	// Assessor assesses health; nil means the built-in rules.
	Assessor *health.Assessor
	// Concurrency bounds the requests in flight (default apply.DefaultConcurrency).
	Concurrency int
	// Schemas, when set, are the cluster's OpenAPI schemas the offline diff types
	// objects with (diff.NewClusterSchemas); share one between the Clusters of one
	// cluster, as Live, instead of each reading and holding its own (megabytes each).
	Schemas *diff.ClusterSchemas
	// Live, when set, keeps the set's live objects from watches (share one
	// live.Cache between the Clusters of one cluster): a pass whose desired set
	// and live objects did not change sends no request, and [Cluster.Drifted]
	// says when an object of the set changes. Its applies compare with the
	// cache's copies and read the inventory's members off it
	// (apply.ApplyOptions.Live), and its health waits ([Cluster.Wait],
	// [Cluster.Health]) read and follow it, with no list or watch of their own
	// (health.WaiterOptions.Live; hooks keep their own).
	// The cache holds the set's objects whole and the other objects of
	// their resources and namespaces as metadata; [Cluster.Close] gives the set's
	// back when it is dropped.
	Live *live.Cache
	// Logger receives debug lines; unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Cluster implements the [Differ], [Applier] and [HealthChecker] of a real cluster
// with packages diff, apply and health. Live objects are read with one paged list
// per resource type and namespace; the copies read by a diff also answer the health
// snapshot of a pass that wrote nothing, and are used again while their
// resourceVersion holds, so a steady-state pass costs a few metadata-only lists.
// It is safe for concurrent use, but passes over one inventory must not overlap
// (a [Reconciler] serialises its passes).
type Cluster struct {
	client    dynamic.Interface
	mapper    meta.RESTMapper
	differ    *diff.Differ
	manager   *apply.Manager
	inventory apply.Inventory
	health    WaiterHealth
	hooks     *health.Waiter // waits for hooks with watches of its own
	meta      metadata.Interface
	opts      ClusterOptions

	drift       chan struct{} // see Drifted; nil without Live
	unsubscribe func()        // ends drift's subscription to Live

	mu      sync.Mutex
	last    lastDiff   // forgotten after a write
	watched object.Set // the objects whose changes are drift
}

var (
	_ Differ        = (*Cluster)(nil)
	_ Applier       = (*Cluster)(nil)
	_ HealthChecker = (*Cluster)(nil)
)

// NewCluster returns the cluster stages over clients (see kube.NewForConfig).
func NewCluster(clients *kube.Clients, opts ClusterOptions) (*Cluster, error) {
	client, dc, mapper, meta := clients.Dynamic, clients.Discovery, clients.Mapper, clients.Metadata
	if opts.FieldManager == "" {
		opts.FieldManager = apply.DefaultFieldManager
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = apply.DefaultConcurrency
	}
	schemas := opts.Schemas
	if schemas == nil {
		schemas = diff.NewClusterSchemas(dc.OpenAPIV3())
	}
	var engine diff.Engine = diff.NewOffline(schemas, diff.OfflineOptions{Mapper: mapper, Client: client})
	if opts.ServerDiff {
		engine = diff.NewServer(client, mapper)
	}
	// The plan is what an apply that takes every field would change, so a field
	// another manager took is drift, in every mode; whether the apply may take it
	// is Force's to say, at apply time.
	differ, err := diff.New(engine, diff.Options{FieldManager: opts.FieldManager, Force: true, Ignore: opts.Ignore, Logger: opts.Logger, Mapper: mapper, Concurrency: opts.Concurrency})
	if err != nil {
		return nil, err
	}
	manager, err := apply.New(client, mapper, apply.Options{FieldManager: opts.FieldManager, Concurrency: opts.Concurrency, Logger: opts.Logger,
		Discovery: dc, Metadata: meta})
	if err != nil {
		return nil, err
	}
	c := &Cluster{client: client, mapper: mapper, differ: differ, manager: manager, meta: meta, opts: opts}
	if opts.Live != nil {
		c.watchDrift(opts.Live)
	}
	if opts.Inventory != (object.ID{}) {
		inv, err := manager.ApplySet(opts.Inventory, apply.ApplySetOptions{Metadata: meta})
		if err != nil {
			return nil, err
		}
		c.inventory = inv
	}
	wopts := health.WaiterOptions{Assessor: opts.Assessor, Logger: opts.Logger}
	c.hooks = health.NewWaiter(client, mapper, wopts)
	waiter := c.hooks
	if opts.Live != nil {
		// The set's waits follow the shared watches: no list+watch a set. Hooks
		// keep their own: the cache would hold them whole for good, as nothing
		// releases them.
		wopts.Live = opts.Live
		waiter = health.NewWaiter(client, mapper, wopts)
	}
	c.health = WaiterHealth{
		Waiter:   waiter,
		Assessor: opts.Assessor,
		Live:     c.lastLive,
		FailFast: true,
	}
	return c, nil
}

// NewForConfig returns a Reconciler whose Differ, Applier and Health are a
// [Cluster] for cfg, configured by opts.Cluster, unless stages sets them. With
// opts.Cluster.Namespace it runs the default-namespace transform first.
func NewForConfig(cfg *rest.Config, stages Stages, opts Options) (*Reconciler, error) {
	kc, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return nil, err
	}
	copts := opts.Cluster
	if copts.Logger.GetSink() == nil {
		copts.Logger = opts.Logger
	}
	c, err := NewCluster(kc, copts)
	if err != nil {
		return nil, err
	}
	if stages.Differ == nil {
		stages.Differ = c
	}
	if stages.Applier == nil {
		stages.Applier = c
	}
	if stages.Health == nil {
		stages.Health = c
	}
	if copts.Namespace != "" {
		ns := RenderTransform(render.Transform{Namespace: copts.Namespace, Mapper: c.mapper})
		opts.Transforms = append([]Transformer{ns}, opts.Transforms...)
	}
	return New(stages, opts)
}

// Mapper returns the RESTMapper the stages share.
func (c *Cluster) Mapper() meta.RESTMapper { return c.mapper }

// Diff implements [Differ]. Hooks are not members: give it the members of a set
// with hooks (apply.SplitHooks), as a [Reconciler] with Options.Hooks does. It diffs desired with the inventory's membership
// labels, as the apply will set them, so that they are not seen as removals, and
// without the namespace of cluster-scoped objects, as the API server stores them,
// so that they are named as their live copies and inventory entries are. The
// objects of desired are not changed.
//
// A steady-state pass costs a metadata-only list per resource type and
// namespace: the live copy the last diff read of an object is used again while
// the object's resourceVersion is unchanged (the API server changes it on every
// write), and when no object changed, the desired set is the same and the
// inventory too, the last plan is the answer. Only the lists that hold a changed
// object are read again in full.
func (c *Cluster) Diff(ctx context.Context, desired []*unstructured.Unstructured) (*diff.Plan, error) {
	kinds := scope.New(c.mapper, desired)
	ids := make([]object.ID, len(desired))
	var labels map[string]string
	if c.inventory != nil {
		labels = c.inventory.Labels()
	}
	desired = slices.Clone(desired) // the caller's objects are not changed
	for i, u := range desired {
		id, err := kinds.ID(object.IDOf(u))
		if err != nil {
			return nil, err
		}
		u = withOwnMetadata(u)
		u.SetNamespace(id.Namespace)
		if labels != nil {
			l := u.GetLabels() // a copy
			if l == nil {
				l = make(map[string]string, len(labels))
			}
			maps.Copy(l, labels)
			u.SetLabels(l)
		}
		desired[i], ids[i] = u, id
	}
	sum, err := fingerprint(desired)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if c.opts.Live != nil {
		return c.diffCached(ctx, desired, ids, sum, last)
	}
	// With nothing to reuse (the first pass, or the first after a write), the live
	// copies are read in full at once; otherwise their metadata says which to read.
	var (
		read map[object.ID]*unstructured.Unstructured
		lm   *liveMeta
	)
	if last.live == nil {
		read, lm, err = readLive(ctx, c.client, c.mapper, ids, c.opts.Concurrency)
	} else {
		lm, err = readMeta(ctx, c.meta, c.mapper, ids, c.opts.Concurrency)
	}
	if err != nil {
		return nil, err
	}
	members, err := c.members(ctx, listedIn(lm))
	if err != nil {
		return nil, err
	}
	gone := object.NewSet(members...).Difference(object.NewSet(ids...))

	live := make(map[object.ID]*unstructured.Unstructured, len(ids)+len(gone))
	stale := slices.Clone(gone) // members that left the set are always read
	changed := false            // an object the last diff read is gone
	for _, id := range ids {
		rv, exists := lm.versions[id]
		prev := last.live[id]
		switch {
		case !exists: // nothing to read
			changed = changed || prev != nil
		case read != nil:
			live[id] = read[id]
		case prev != nil && prev.GetResourceVersion() == rv:
			live[id] = prev
		default:
			stale = append(stale, id)
		}
	}
	if !changed && len(stale) == 0 && last.plan != nil && last.fingerprint == sum && slices.Equal(last.members, members) {
		return clonePlan(last.plan), nil
	}
	if len(stale) > 0 {
		more, _, err := readLive(ctx, c.client, c.mapper, stale, c.opts.Concurrency)
		if err != nil {
			return nil, err
		}
		maps.Copy(live, more)
	}
	return c.plan(ctx, desired, live, members, len(gone) == 0, sum)
}

// plan diffs desired against live and the inventory's members, and remembers the
// live objects for the health stage and, when memo, the plan for the next Diff.
func (c *Cluster) plan(ctx context.Context, desired []*unstructured.Unstructured, live map[object.ID]*unstructured.Unstructured,
	members []object.ID, memo bool, sum [sha256.Size]byte) (*diff.Plan, error) {
	// A member already gone has nothing to delete: it is no prune candidate.
	existing := slices.DeleteFunc(slices.Clone(members), func(id object.ID) bool { return live[id] == nil })
	dp, err := c.differ.Plan(ctx, diff.Input{Desired: desired, Live: slices.Collect(maps.Values(live)), Inventory: existing})
	if dp == nil {
		return nil, err
	}
	next := lastDiff{live: live}
	if err == nil && memo {
		next.plan, next.fingerprint, next.members = clonePlan(dp), sum, members
	}
	c.mu.Lock()
	c.last = next
	c.mu.Unlock()
	return dp, err
}

// members returns the inventory's members, read off listed where it has the
// lists (see apply.ApplySet.LoadListed).
func (c *Cluster) members(ctx context.Context, listed apply.Listed) ([]object.ID, error) {
	var (
		members []object.ID
		err     error
	)
	switch inv := c.inventory.(type) {
	case nil:
		return nil, nil
	case *apply.ApplySet:
		members, err = inv.LoadListed(ctx, listed)
	default:
		members, err = inv.Load(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	return members, nil
}

// listedIn returns the complete lists lm made.
func listedIn(lm *liveMeta) apply.Listed {
	return func(gvr schema.GroupVersionResource, ns string) ([]metav1.Object, bool) {
		l, ok := lm.lists[listKey{gvr: gvr, ns: ns}]
		return l, ok
	}
}

// lastDiff is what the last Diff read and concluded.
type lastDiff struct {
	// live has the live copies read, by the resourceVersion they had.
	live map[object.ID]*unstructured.Unstructured
	// plan, when set, is the plan for the desired set whose fingerprint this
	// is, the inventory members, and live: the answer while none of them change.
	plan        *diff.Plan
	fingerprint [sha256.Size]byte
	members     []object.ID
}

// fingerprint hashes the desired objects, in order.
func fingerprint(desired []*unstructured.Unstructured) ([sha256.Size]byte, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, u := range desired {
		if err := enc.Encode(u.Object); err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("%s: %w", object.IDOf(u), err)
		}
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

// Apply implements [Applier] with apply.Manager, recording the members in the
// inventory without pruning.
func (c *Cluster) Apply(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions) ([]apply.Event, error) {
	return c.apply(ctx, desired, opts, false)
}

// Prune implements [Applier]: an apply with pruning, which writes nothing for the
// objects already applied and deletes the members that left the set.
func (c *Cluster) Prune(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions) ([]apply.Event, error) {
	if c.inventory == nil {
		return nil, errors.New("no inventory: nothing to prune from (set ClusterOptions.Inventory)")
	}
	return c.apply(ctx, desired, opts, true)
}

func (c *Cluster) apply(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions, prune bool) ([]apply.Event, error) {
	var out []apply.Event
	// A prune applies the desired set again before it deletes; the apply stage
	// reported those objects already (in a dry run, as configured once more).
	var applied object.Set
	if prune {
		applied = object.NewSet()
		kinds := scope.New(c.mapper, desired)
		for _, u := range desired {
			id, err := kinds.ID(object.IDOf(u))
			if err != nil {
				return nil, err
			}
			applied.Add(id)
		}
	}
	aopts := apply.ApplyOptions{
		Force:           c.opts.Force,
		DryRun:          opts.DryRun,
		Inventory:       c.inventory,
		Prune:           prune,
		AllowEmpty:      opts.AllowEmpty,
		AllowPruneInUse: opts.AllowPruneInUse,
		CreateNamespace: opts.CreateNamespace,
		Hooks:           opts.Hooks,
		OnEvent: func(e apply.Event) {
			if prune && applied.Has(e.ID) && e.Action != apply.Failed && e.Phase == "" {
				return
			}
			out = append(out, e)
			if opts.OnEvent != nil {
				opts.OnEvent(e)
			}
		},
	}
	if c.opts.Live != nil {
		if err := c.applyFromCache(ctx, desired, &aopts); err != nil {
			return nil, err
		}
	}
	if opts.Hooks {
		aopts.HookGate = c.hooks.Gate(health.WaitOptions{Timeout: opts.HookTimeout, FailFast: true})
	}
	if !opts.DryRun {
		c.mu.Lock()
		c.last = lastDiff{}
		c.mu.Unlock()
	}
	_, err := c.manager.Apply(ctx, desired, aopts)
	if errors.Is(err, apply.ErrEmptySet) {
		err = fmt.Errorf("%w (%w)", ErrEmptySet, err)
	}
	return out, err
}

// Health implements [HealthChecker] with health.Waiter; a snapshot after a pass
// that wrote nothing assesses the live copies the diff read.
func (c *Cluster) Health(ctx context.Context, ids []object.ID) (map[object.ID]health.Status, error) {
	return c.health.Health(ctx, ids)
}

// Wait implements [HealthChecker] with health.Waiter: one watch per resource type,
// or none with [ClusterOptions.Live].
func (c *Cluster) Wait(ctx context.Context, ids []object.ID, progress func(object.ID, health.Status)) (map[object.ID]health.Status, error) {
	return c.health.Wait(ctx, ids, progress)
}

func (c *Cluster) lastLive() map[object.ID]*unstructured.Unstructured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last.live
}

// withOwnMetadata returns a copy of u that shares everything with it but its
// top-level map and its metadata, where Diff sets the namespace and replaces
// the labels.
func withOwnMetadata(u *unstructured.Unstructured) *unstructured.Unstructured {
	obj := maps.Clone(u.Object)
	if md, ok := obj["metadata"].(map[string]any); ok {
		obj["metadata"] = maps.Clone(md)
	}
	return &unstructured.Unstructured{Object: obj}
}
