package health

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/object"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// update is a new status of one watched object.
type update struct {
	id     object.ID
	status Status
}

// tracker is the store of one watch: it keeps no objects, it assesses those of the
// set as the reflector sees them and sends their status to the wait loop. Objects of
// the same resource type that are not in the set are ignored.
//
// An object whose status changes with time alone (one waiting for its first status,
// within [Options.StatusGracePeriod]) gets a timer that assesses it again when the
// period ends; any newer sighting of the object cancels it.
type tracker struct {
	ctx      context.Context
	assessor *Assessor
	hint     statusHint
	ids      map[string]object.ID // by "namespace/name"
	out      chan<- update

	mu     sync.Mutex // serialises sends, so that a timer never overtakes a newer sighting
	timers map[object.ID]*time.Timer
	fired  sync.WaitGroup
}

var _ cache.ReflectorStore = (*tracker)(nil)

func (t *tracker) send(id object.ID, s Status) {
	select {
	case t.out <- update{id, s}:
	case <-t.ctx.Done():
	}
}

// observe assesses u and sends its status, replacing the object's timer.
func (t *tracker) observe(id object.ID, u *unstructured.Unstructured) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopLocked(id)
	s, until := t.assessor.assess(u, t.hint, time.Now())
	if !until.IsZero() {
		var timer *time.Timer
		t.fired.Add(1)
		timer = time.AfterFunc(time.Until(until), func() {
			defer t.fired.Done()
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.timers[id] != timer {
				return // a newer sighting replaced it
			}
			delete(t.timers, id)
			s, _ := t.assessor.assess(u, t.hint, time.Now())
			t.send(id, s)
		})
		t.timers[id] = timer
	}
	t.send(id, s)
}

// stopLocked cancels the object's timer; t.mu is held.
func (t *tracker) stopLocked(id object.ID) {
	if timer, ok := t.timers[id]; ok {
		delete(t.timers, id)
		if timer.Stop() {
			t.fired.Done()
		}
	}
}

// gone sends that the object is Missing.
func (t *tracker) gone(id object.ID, msg string) { t.set(id, status(Missing, msg)) }

// set sends s, a status no object tells, cancelling the object's timer.
func (t *tracker) set(id object.ID, s Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopLocked(id)
	t.send(id, s)
}

// close cancels the timers and waits for those already running.
func (t *tracker) close() {
	t.mu.Lock()
	for id := range t.timers {
		t.stopLocked(id)
	}
	t.mu.Unlock()
	t.fired.Wait()
}

func (t *tracker) lookup(obj any) (*unstructured.Unstructured, object.ID, bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, object.ID{}, false
	}
	id, ok := t.ids[u.GetNamespace()+"/"+u.GetName()]
	return u, id, ok
}

func (t *tracker) Add(obj any) error {
	if u, id, ok := t.lookup(obj); ok {
		t.observe(id, u)
	}
	return nil
}

func (t *tracker) Update(obj any) error { return t.Add(obj) }

func (t *tracker) Delete(obj any) error {
	if _, id, ok := t.lookup(obj); ok {
		t.gone(id, "deleted")
	}
	return nil
}

// Replace receives the full list, at the start and after a relist: what the set
// holds and the list does not is Missing.
func (t *tracker) Replace(objs []any, _ string) error {
	seen := make(map[object.ID]bool, len(t.ids))
	for _, obj := range objs {
		if u, id, ok := t.lookup(obj); ok {
			seen[id] = true
			t.observe(id, u)
		}
	}
	for _, id := range t.ids {
		if !seen[id] {
			t.gone(id, "not found")
		}
	}
	return nil
}

func (t *tracker) Resync() error { return nil }

// failed reports a list or watch error on every object of the watch: the reflector
// retries with backoff, and the wait loop shows why nothing moves (RBAC, a removed
// API) instead of waiting in silence.
func (t *tracker) failed(verb string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range t.ids {
		t.stopLocked(id)
		t.send(id, status(Unknown, verb+" failed: "+err.Error()))
	}
}

// watchScope is one list+watch: a resource type in one namespace or all of them.
type watchScope struct {
	resource  dynamic.ResourceInterface
	name      string // for logs
	fieldName string // a metadata.name field selector when the scope holds one object
	ids       map[string]object.ID
	hint      statusHint // whether the CRD has a status subresource
}

func (w *Waiter) run(ctx context.Context, sc watchScope, out chan<- update) {
	t := &tracker{ctx: ctx, assessor: w.assessor, hint: sc.hint, ids: sc.ids, out: out, timers: map[object.ID]*time.Timer{}}
	defer t.close()
	tweak := func(o *metav1.ListOptions) {
		if sc.fieldName != "" {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", sc.fieldName).String()
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			l, err := sc.resource.List(ctx, o)
			if err != nil {
				t.failed("list "+sc.name, err)
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			wi, err := sc.resource.Watch(ctx, o)
			if err != nil {
				t.failed("watch "+sc.name, err)
			}
			return wi, err
		},
	}
	log := logging.From(ctx, w.log).WithValues("watch", sc.name)
	r := cache.NewReflectorWithOptions(lw, &unstructured.Unstructured{}, t, cache.ReflectorOptions{
		Name:   fmt.Sprintf("health %s", sc.name),
		Logger: &log,
	})
	r.RunWithContext(ctx)
}
