package git

import (
	"context"
	"sync"

	"github.com/gitopskit/gitopskit/source"
)

// flights is a Repository's fetch in progress and the one queued behind it, so that
// concurrent Fetch calls share fetches instead of each listing the remote in turn
// under the cache lock.
//
// A call joins the fetch in progress only while that fetch has not yet asked the
// remote (it is waiting for the cache lock): its advertisement will then be newer
// than the call. Once the remote has been asked, a call joins the next fetch,
// which starts when the current one ends and is shared by every call queued for it.
// So a burst of calls costs at most two fetches, and each call sees the remote's
// reference as it was at some moment after the call began.
type flights struct {
	mu        sync.Mutex
	cur, next *flight
}

// flight is one run of fetch and the calls waiting for it.
type flight struct {
	ctx  context.Context // the first caller's, without its cancellation
	done chan struct{}   // closed once art and err are set
	art  *source.Artifact
	err  error

	// Guarded by flights.mu.
	waiters int  // Fetch calls waiting for done
	asked   bool // the remote was asked, or everyone left: no one may join
	cancel  context.CancelFunc
}

// join returns the fetch a Fetch call beginning now waits for, starting it when
// none is in progress.
func (r *Repository) join(ctx context.Context) *flight {
	fl := &r.flights
	fl.mu.Lock()
	defer fl.mu.Unlock()
	f := fl.cur
	switch {
	case f == nil:
		f = newFlight(ctx)
		fl.cur = f
		r.start(f)
	case f.asked:
		if fl.next == nil {
			fl.next = newFlight(ctx)
		}
		f = fl.next
	}
	f.waiters++
	return f
}

func newFlight(ctx context.Context) *flight {
	return &flight{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
}

// start runs f in a goroutine bounded by Options.Timeout; when it ends, the
// queued fetch starts. The caller holds flights.mu.
func (r *Repository) start(f *flight) {
	ctx, cancel := context.WithTimeout(f.ctx, r.opts.Timeout)
	f.cancel = cancel
	go func() {
		defer cancel()
		a, err := r.fetch(ctx, func() {
			r.flights.mu.Lock()
			f.asked = true
			r.flights.mu.Unlock()
		})
		if err != nil {
			err = r.fail("fetch", err)
		}
		fl := &r.flights
		fl.mu.Lock()
		defer fl.mu.Unlock()
		f.art, f.err = a, err
		close(f.done)
		fl.cur, fl.next = fl.next, nil
		if fl.cur != nil {
			r.start(fl.cur)
		}
	}()
}

// leave withdraws a call whose context ended from f. The last call to leave a
// running fetch cancels it and waits for it to end, so that no fetch runs on
// for nobody; a queued fetch that everyone left is dropped.
func (r *Repository) leave(f *flight) {
	fl := &r.flights
	fl.mu.Lock()
	f.waiters--
	if f.waiters > 0 {
		fl.mu.Unlock()
		return
	}
	if f == fl.next {
		fl.next = nil
		fl.mu.Unlock()
		return
	}
	f.asked = true // a call arriving now would get the cancellation: queue it
	f.cancel()
	fl.mu.Unlock()
	<-f.done
}

// result is f's outcome for one caller: its own copy of the artifact, so that a
// caller changing a field does not change another's.
func (f *flight) result() (*source.Artifact, error) {
	if f.err != nil {
		return nil, f.err
	}
	a := *f.art
	if a.Commit != nil {
		c := *a.Commit
		a.Commit = &c
	}
	return &a, nil
}
