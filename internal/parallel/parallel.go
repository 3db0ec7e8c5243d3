// Package parallel runs the iterations of a loop concurrently: [Do] for calls that
// wait (API requests), [Split] for cheap CPU-bound ones.
package parallel

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"
)

// DefaultLimit is how many requests to the API server the packages that make
// them in parallel (apply, diff, reconcile) have in flight unless told otherwise.
const DefaultLimit = 16

// Do calls f(i) for every i in [0, n), each in its own goroutine and at most limit
// at a time, and returns when every call has returned. Once ctx is done it starts
// no more calls: a caller learns it from ctx.
//
// It is errgroup with SetLimit for loops whose every iteration records its own
// result: the callers report an error per object, not the first one, so f returns
// nothing and no call is cancelled by another's failure.
func Do(ctx context.Context, limit, n int, f func(i int)) {
	var g errgroup.Group
	g.SetLimit(max(limit, 1))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			f(i)
			return nil
		})
	}
	_ = g.Wait() // every call returns nil
}

// Split calls f(i) for every i in [0, n), cutting the range into contiguous parts
// of at least chunk items, one goroutine each and no more parts than processors,
// and returns when every call has returned.
func Split(n, chunk int, f func(i int)) {
	parts := min(runtime.GOMAXPROCS(0), n/max(chunk, 1)+1)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			for i := p * n / parts; i < (p+1)*n/parts; i++ {
				f(i)
			}
		})
	}
	wg.Wait()
}
