package git

import (
	"context"
	"sync"
	"testing"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// fetchAll runs n Fetch calls of r at once and returns their artifacts.
func fetchAll(t *testing.T, r *Repository, n int) []*source.Artifact {
	t.Helper()
	arts := make([]*source.Artifact, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { arts[i], errs[i] = r.Fetch(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Fetch %d: %v", i, err)
		}
	}
	return arts
}

// TestFetchConcurrentShares: 50 Fetch calls of one Repository at once, after a
// commit, ask the server what one or two fetches do (an advertisement and a pack
// each), not 50 advertisements, and all get the new commit.
func TestFetchConcurrentShares(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	for _, c := range checkouts {
		t.Run(c.name, func(t *testing.T) {
			r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: t.TempDir(), Checkout: c.mode})
			must(t, err)
			mustFetchRepo(t, r)
			c4 := f.repo.Commit("four "+c.name, map[string]string{"app.yaml": "v: 4 " + c.name + "\n"})
			f.repo.Publish()
			before := srv.Requests.Load()
			arts := fetchAll(t, r, 50)
			n := srv.Requests.Load() - before
			t.Logf("50 concurrent fetches: %d requests", n)
			if n > 4 {
				t.Errorf("50 concurrent fetches made %d requests, want at most 4 (two fetches)", n)
			}
			for i, a := range arts {
				if a.Revision != "main@sha1:"+c4 || readFile(t, a, "app.yaml") != "v: 4 "+c.name+"\n" {
					t.Fatalf("Fetch %d: %s", i, a.Revision)
				}
			}
		})
	}
}

var checkouts = []struct {
	name string
	mode Checkout
}{{"directory", CheckoutDirectory}, {"lazy", CheckoutLazy}}
