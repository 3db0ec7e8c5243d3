package health

import (
	"context"

	"github.com/gitopskit/gitopskit/object"
)

// Gate returns a function that waits for a set of objects with opts and returns nil
// when all are done, or the error of [Waiter.Wait]. It has the shape of apply's
// wave gate: apply calls it with the objects of a wave after applying them and
// starts the next wave only when it returns nil.
//
//	gate := waiter.Gate(health.WaitOptions{Timeout: 5 * time.Minute, FailFast: true})
//	// apply.Options{WaveGate: gate}
func (w *Waiter) Gate(opts WaitOptions) func(ctx context.Context, ids []object.ID) error {
	return func(ctx context.Context, ids []object.ID) error {
		_, err := w.Wait(ctx, ids, opts)
		return err
	}
}
