package source

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gitopskit/gitopskit/source/git"
)

// fetchers is how many callers fetch one Repository at once: the sets (or target
// clusters) of a fleet that follow one repository, each starting its pass after
// the same commit.
const fetchers = 50

// BenchmarkConcurrentFetch: one new commit, then 50 Fetch calls of one warm
// Repository at once (as 50 sets sharing it would make). The timer covers the
// calls until the last returns; requests/op counts the HTTP requests the server
// saw (an advertisement per fetch, and one pack request).
func BenchmarkConcurrentFetch(b *testing.B) {
	for _, c := range checkouts {
		b.Run(c.name, func(b *testing.B) {
			srv, root := serve(b)
			bare := filepath.Join(root, "repo.git")
			ctx := context.Background()
			r, err := git.New(git.Options{URL: srv.URL + "/repo.git", CacheDir: filepath.Join(b.TempDir(), "cache"), Checkout: c.mode})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
			var requests int64
			errs := make([]error, fetchers)
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				addCommit(b, bare, i)
				before := srv.Requests.Load()
				b.StartTimer()
				var wg sync.WaitGroup
				for j := range fetchers {
					wg.Go(func() { _, errs[j] = r.Fetch(ctx) })
				}
				wg.Wait()
				requests += srv.Requests.Load() - before
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}
