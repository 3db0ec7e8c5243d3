package parallel

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestDo(t *testing.T) {
	var running, peak atomic.Int64
	seen := make([]atomic.Int64, 50)
	Do(context.Background(), 3, len(seen), func(i int) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		seen[i].Add(1)
		running.Add(-1)
	})
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("f(%d) called %d times, want 1", i, seen[i].Load())
		}
	}
	if peak.Load() > 3 {
		t.Errorf("%d calls at once, want at most 3", peak.Load())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	Do(ctx, 1, 10, func(int) { calls++ })
	if calls != 0 {
		t.Errorf("%d calls after ctx was done, want 0", calls)
	}
}

func TestSplit(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		seen := make([]atomic.Int64, n)
		Split(n, 64, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d: f(%d) called %d times, want 1", n, i, seen[i].Load())
			}
		}
	}
}
