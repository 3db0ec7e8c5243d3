package health

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gitopskit/gitopskit/kube"

	"github.com/gitopskit/gitopskit/object"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Sentinel errors of [Waiter.Wait], for errors.Is.
var (
	// ErrTimeout: the timeout passed before every object was done.
	ErrTimeout = errors.New("timed out waiting for health")
	// ErrDegraded: an object became Degraded and [WaitOptions.FailFast] was set.
	ErrDegraded = errors.New("object degraded")
)

// WaiterOptions configure a [Waiter].
type WaiterOptions struct {
	// Assessor assesses the objects; nil means the built-in and generic rules.
	Assessor *Assessor
	// Logger receives the watches' diagnostics; unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
	// Live, when set, is where the waits read and follow the objects (a
	// live.Cache shared by the sets of a cluster): they send no list or watch of
	// their own, and [WaitOptions.PerNamespace] does not apply.
	Live Live
}

// Waiter waits for sets of objects to become healthy, driven by watches. It is safe
// for concurrent use; each call of [Waiter.Wait] opens its own watches and closes
// them before it returns, or follows those of [WaiterOptions.Live].
type Waiter struct {
	client   dynamic.Interface
	mapper   meta.RESTMapper
	assessor *Assessor
	log      logr.Logger
	live     Live

	mu    sync.Mutex
	hints map[schema.GroupVersionKind]statusHint // see statusHint
}

// NewWaiter returns a Waiter that reads objects through client and finds their
// resource types through mapper.
func NewWaiter(client dynamic.Interface, mapper meta.RESTMapper, opts WaiterOptions) *Waiter {
	return &Waiter{client: client, mapper: mapper, assessor: opts.Assessor, log: opts.Logger, live: opts.Live, hints: map[schema.GroupVersionKind]statusHint{}}
}

// NewWaiterForConfig returns a Waiter with a dynamic client and a discovery-backed
// RESTMapper (cached in memory, refreshed when a kind is not found) for cfg.
func NewWaiterForConfig(cfg *rest.Config, opts WaiterOptions) (*Waiter, error) {
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return nil, err
	}
	return NewWaiter(c.Dynamic, c.Mapper, opts), nil
}

// WaitOptions configure one [Waiter.Wait].
type WaitOptions struct {
	// Timeout bounds the wait; zero means until ctx is done.
	Timeout time.Duration
	// FailFast ends the wait with [ErrDegraded] as soon as an object is Degraded.
	// Without it a Degraded object may still recover (a crash loop that stops) and
	// the wait goes on until the timeout.
	FailFast bool
	// Progress, when set, is called with every change of an object's status, in
	// order, from the goroutine that called Wait.
	Progress func(Event)
	// PerNamespace opens one watch per resource type and namespace instead of one
	// across all namespaces, for callers whose RBAC is limited to namespaces. A type
	// whose objects are all in one namespace is always watched in that namespace.
	PerNamespace bool
}

// Event is a change of an object's status during a wait.
type Event struct {
	ID object.ID
	// Previous is the status before; its code is Unknown before the first sighting.
	Previous Status
	Status   Status
}

// Result is the outcome of a wait: the last status of each object and of the set.
type Result struct {
	// Status is the aggregate of Objects (see [Aggregate]).
	Status  Status
	Objects map[object.ID]Status
}

// Wait watches ids until every object is done (Healthy or Suspended, see
// [Code.Done]), any is Degraded when opts.FailFast is set, or the timeout passes.
// It opens one list+watch per resource type (per namespace with
// opts.PerNamespace), never one per object, and never polls; with
// [WaiterOptions.Live] it opens none and follows the objects there. An object that does not
// exist, or is deleted while waiting, is Missing; a kind the cluster does not serve
// is Missing too. It returns the last statuses and nil, or an error wrapping
// [ErrTimeout], [ErrDegraded] or the context's error.
func (w *Waiter) Wait(ctx context.Context, ids []object.ID, opts WaitOptions) (Result, error) {
	statuses := make(map[object.ID]Status, len(ids))
	for _, id := range ids {
		statuses[id] = status(Unknown, "not yet observed")
	}
	result := func() Result { return Result{Status: Aggregate(statuses), Objects: statuses} }
	if len(statuses) == 0 {
		return result(), nil
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, ErrTimeout)
		defer cancel()
	}
	watchCtx, stop := context.WithCancel(ctx)
	updates := make(chan update, 64)
	var wg sync.WaitGroup
	defer wg.Wait() // no watch outlives the call
	defer stop()
	var missing []update
	if w.live != nil {
		var err error
		if missing, err = w.follow(watchCtx, slices.Collect(maps.Keys(statuses)), updates, &wg); err != nil {
			return result(), err
		}
	} else {
		scopes, m, err := w.scopes(ctx, statuses, opts.PerNamespace)
		if err != nil {
			return result(), err
		}
		missing = m
		for _, sc := range scopes {
			wg.Go(func() { w.run(watchCtx, sc, updates) })
		}
	}

	notDone := len(statuses)
	apply := func(u update) {
		prev := statuses[u.id]
		if prev == u.status {
			return
		}
		if prev.Code.Done() != u.status.Code.Done() {
			if u.status.Code.Done() {
				notDone--
			} else {
				notDone++
			}
		}
		statuses[u.id] = u.status
		if opts.Progress != nil {
			opts.Progress(Event{ID: u.id, Previous: prev, Status: u.status})
		}
	}
	for _, u := range missing {
		apply(u)
	}
	for notDone > 0 {
		select {
		case u := <-updates:
			apply(u)
			if opts.FailFast && u.status.Code == Degraded {
				return result(), fmt.Errorf("%w: %s: %s", ErrDegraded, u.id.KubectlString(), u.status)
			}
		case <-ctx.Done():
			r := result()
			if errors.Is(context.Cause(ctx), ErrTimeout) {
				return r, fmt.Errorf("%w after %v: %s", ErrTimeout, opts.Timeout, r.Status.Message)
			}
			return r, fmt.Errorf("wait for health: %w: %s", context.Cause(ctx), r.Status.Message)
		}
	}
	return result(), nil
}

// scopes groups the objects into watches. Kinds the cluster does not serve are
// returned as Missing updates.
func (w *Waiter) scopes(ctx context.Context, statuses map[object.ID]Status, perNamespace bool) ([]watchScope, []update, error) {
	type typeKey struct{ group, kind string }
	byType := map[typeKey][]object.ID{}
	for id := range statuses {
		k := typeKey{id.Group, id.Kind}
		byType[k] = append(byType[k], id)
	}
	var scopes []watchScope
	var missing []update
	for _, ids := range byType {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		gk := ids[0].GroupKind()
		mapping, err := w.mapper.RESTMapping(gk)
		if meta.IsNoMatchError(err) {
			for _, id := range ids {
				missing = append(missing, unserved(id))
			}
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("resource type of %s: %w", gk, err)
		}
		namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
		byNS := map[string]map[string]object.ID{}
		for _, id := range ids {
			ns := id.Namespace
			if !namespaced {
				ns = ""
			}
			if byNS[ns] == nil {
				byNS[ns] = map[string]object.ID{}
			}
			byNS[ns][ns+"/"+id.Name] = id
		}
		res := w.client.Resource(mapping.Resource)
		hint := w.statusHint(ctx, mapping)
		if namespaced && len(byNS) > 1 && !perNamespace {
			all := map[string]object.ID{}
			for _, m := range byNS {
				for key, id := range m {
					all[key] = id
				}
			}
			scopes = append(scopes, scope(res, mapping.Resource.Resource, all, hint))
			continue
		}
		for ns, m := range byNS {
			ri := dynamic.ResourceInterface(res)
			name := mapping.Resource.Resource
			if namespaced {
				ri = res.Namespace(ns)
				name += " in " + ns
			}
			scopes = append(scopes, scope(ri, name, m, hint))
		}
	}
	return scopes, missing, nil
}

func scope(ri dynamic.ResourceInterface, name string, ids map[string]object.ID, hint statusHint) watchScope {
	sc := watchScope{resource: ri, name: name, ids: ids, hint: hint}
	if len(ids) == 1 {
		for _, id := range ids {
			sc.fieldName = id.Name
		}
	}
	return sc
}

// unserved is the Missing update of id, whose kind the cluster does not serve.
func unserved(id object.ID) update {
	return update{id, status(Missing, "the cluster serves no kind "+id.Kind+" in group "+quoteGroup(id.Group))}
}

func quoteGroup(g string) string {
	if g == "" {
		return `"" (core)`
	}
	return g
}

// Aggregate returns the status of a set: the worst code of its objects, with a
// message counting the objects that are done and naming up to three that are not,
// most severe first. An empty set is Healthy.
func Aggregate(statuses map[object.ID]Status) Status {
	var codes []Code
	var pending []object.ID
	for id, s := range statuses {
		codes = append(codes, s.Code)
		if !s.Code.Done() {
			pending = append(pending, id)
		}
	}
	worst := Worst(codes...)
	if len(pending) == 0 {
		return status(worst, itoa(int64(len(statuses)))+" objects done")
	}
	sort.Slice(pending, func(i, j int) bool {
		si, sj := statuses[pending[i]].Code.severity(), statuses[pending[j]].Code.severity()
		if si != sj {
			return si > sj
		}
		return object.Compare(pending[i], pending[j]) < 0
	})
	var b strings.Builder
	b.WriteString(of(int64(len(statuses)-len(pending)), int64(len(statuses)), "objects done"))
	for i, id := range pending {
		if i == 3 {
			b.WriteString("; and " + itoa(int64(len(pending)-3)) + " more")
			break
		}
		b.WriteString("; " + id.String() + ": " + statuses[id].String())
	}
	return status(worst, b.String())
}
