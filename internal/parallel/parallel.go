// Package parallel runs the iterations of a loop concurrently: [Do] for calls that
// wait (API requests), [Split] for cheap CPU-bound ones.
package parallel

import (
	"context"
	"runtime"
	"sync"
)

// Do calls f(i) for every i in [0, n), each in its own goroutine and at most limit
// at a time, and returns when every call has returned. Once ctx is done it starts
// no more calls: a caller learns it from ctx.
func Do(ctx context.Context, limit, n int, f func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
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
