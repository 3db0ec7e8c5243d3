package reconcile

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

// WaiterHealth is a [HealthChecker] built on health.Waiter: waiting is
// watch-driven (one list+watch per resource type). Without waiting it assesses the
// objects as they are: from Live when it is set and knows them (no request), else
// with a wait bounded by Snapshot.
type WaiterHealth struct {
	Waiter *health.Waiter
	// Assessor assesses live objects for a snapshot; nil means health.Assess.
	Assessor *health.Assessor
	// Live, when set, returns the live copies read by the last diff.
	Live func() map[object.ID]*unstructured.Unstructured
	// Snapshot bounds a wait used as a snapshot (default 2s); objects not done by
	// then keep the status they had.
	Snapshot time.Duration
	// FailFast ends a wait as soon as an object is Degraded.
	FailFast bool
}

// Health implements [HealthChecker]: the live copies the last diff read, when it
// read them all, else a wait bounded by Snapshot.
func (h WaiterHealth) Health(ctx context.Context, ids []object.ID) (map[object.ID]health.Status, error) {
	return h.health(ctx, ids, false, nil)
}

// Wait implements [HealthChecker].
func (h WaiterHealth) Wait(ctx context.Context, ids []object.ID, progress func(object.ID, health.Status)) (map[object.ID]health.Status, error) {
	return h.health(ctx, ids, true, progress)
}

func (h WaiterHealth) health(ctx context.Context, ids []object.ID, wait bool, progress func(object.ID, health.Status)) (map[object.ID]health.Status, error) {
	if !wait && h.Live != nil {
		if out, ok := h.assessLive(ids); ok {
			return out, nil
		}
	}
	opts := health.WaitOptions{FailFast: wait && h.FailFast}
	if progress != nil {
		opts.Progress = func(e health.Event) { progress(e.ID, e.Status) }
	}
	if !wait {
		opts.Timeout = h.Snapshot
		if opts.Timeout <= 0 {
			opts.Timeout = 2 * time.Second
		}
	}
	res, err := h.Waiter.Wait(ctx, ids, opts)
	if !wait && errors.Is(err, health.ErrTimeout) {
		err = nil
	}
	return res.Objects, err
}

// assessLive assesses the live copies of ids; ok is false when one is not known.
func (h WaiterHealth) assessLive(ids []object.ID) (map[object.ID]health.Status, bool) {
	live := h.Live()
	if live == nil {
		return nil, false
	}
	out := make(map[object.ID]health.Status, len(ids))
	for _, id := range ids {
		u, ok := live[id]
		if !ok {
			out[id] = health.Status{Code: health.Missing, Message: "not found"}
			continue
		}
		if h.Assessor != nil {
			out[id] = h.Assessor.Assess(u)
		} else {
			out[id] = health.Assess(u)
		}
	}
	return out, true
}
