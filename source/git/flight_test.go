package git

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// gatedServer serves root over smart HTTP and holds every pack request
// (git-upload-pack POST) until the gate opens: a fetch that has listed the
// remote's references and waits for its pack.
type gatedServer struct {
	URL     string
	held    chan struct{} // receives once per held pack request
	gate    chan struct{} // closed by open to let the pack requests through
	once    sync.Once
	adverts atomic.Int64 // reference advertisements served
}

func newGatedServer(t *testing.T, root string) *gatedServer {
	t.Helper()
	g := &gatedServer{held: make(chan struct{}, 100), gate: make(chan struct{})}
	h := gittest.HTTPHandler(t, root, gittest.HTTPOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/info/refs") {
			g.adverts.Add(1)
		}
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-upload-pack") {
			g.held <- struct{}{}
			select {
			case <-g.gate:
			case <-req.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.open) // first: a failed test must not leave requests held
	g.URL = srv.URL
	return g
}

func (g *gatedServer) open() { g.once.Do(func() { close(g.gate) }) }

// waitFor polls cond under r's flights lock until it holds.
func waitFor(t *testing.T, r *Repository, what string, cond func(fl *flights) bool) {
	t.Helper()
	for range 5000 {
		r.flights.mu.Lock()
		ok := cond(&r.flights)
		r.flights.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

type fetched struct {
	a   *source.Artifact
	err error
}

func fetchAsync(ctx context.Context, r *Repository) chan fetched {
	ch := make(chan fetched, 1)
	go func() {
		a, err := r.Fetch(ctx)
		ch <- fetched{a, err}
	}()
	return ch
}

// TestFetchAfterAskedGetsNewer: a Fetch that begins after a running fetch has
// listed the remote, and after a new commit was pushed, does not get the running
// fetch's older commit: it waits for a fetch of its own, which calls arriving
// meanwhile share.
func TestFetchAfterAskedGetsNewer(t *testing.T) {
	f := newFixture(t)
	srv := newGatedServer(t, f.repo.Root)
	r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: t.TempDir()})
	must(t, err)
	first := fetchAsync(context.Background(), r)
	<-srv.held // the first fetch listed c3 and waits for its pack
	c4 := f.repo.Commit("four", map[string]string{"app.yaml": "v: 4\n"})
	f.repo.Publish()
	second, third := fetchAsync(context.Background(), r), fetchAsync(context.Background(), r)
	waitFor(t, r, "two calls queued", func(fl *flights) bool { return fl.next != nil && fl.next.waiters == 2 })
	srv.open()
	if got := <-first; got.err != nil || got.a.Revision != "main@sha1:"+f.c3 {
		t.Fatalf("first Fetch = %v, %v; want c3", got.a, got.err)
	}
	for i, ch := range []chan fetched{second, third} {
		if got := <-ch; got.err != nil || got.a.Revision != "main@sha1:"+c4 {
			t.Fatalf("Fetch %d after the push = %v, %v; want c4 %s", i+2, got.a, got.err, c4)
		}
	}
	if n := srv.adverts.Load(); n != 2 {
		t.Errorf("%d advertisements, want 2 (the first fetch, the one the later calls shared)", n)
	}
}

// TestFetchJoinsAndLeaves: calls that begin while a fetch waits for the cache
// lock share it; one whose context ends returns its context's error at once and
// the others still get the artifact; when the last waiting call leaves, the
// fetch is cancelled and a later Fetch works.
func TestFetchJoinsAndLeaves(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: t.TempDir()})
	must(t, err)
	unlock, err := lockDir(context.Background(), r.dir) // as another process fetching
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	leaver := fetchAsync(ctx, r)
	var others []chan fetched
	for range 20 {
		others = append(others, fetchAsync(context.Background(), r))
	}
	waitFor(t, r, "21 calls on one fetch", func(fl *flights) bool { return fl.cur != nil && fl.cur.waiters == 21 && fl.next == nil })
	cancel()
	if got := <-leaver; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("cancelled Fetch = %v, %v; want context.Canceled", got.a, got.err)
	}
	unlock()
	for i, ch := range others {
		if got := <-ch; got.err != nil || got.a.Revision != "main@sha1:"+f.c3 {
			t.Fatalf("Fetch %d = %v, %v", i, got.a, got.err)
		}
	}
	if n := srv.Requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (one advertisement, one pack)", n)
	}

	// Everyone leaves: the fetch is cancelled, Fetch returns, the next one works.
	unlock, err = lockDir(context.Background(), r.dir)
	must(t, err)
	ctx, cancel = context.WithCancel(context.Background())
	lone := fetchAsync(ctx, r)
	waitFor(t, r, "one call", func(fl *flights) bool { return fl.cur != nil && fl.cur.waiters == 1 })
	cancel()
	if got := <-lone; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("abandoned Fetch = %v, %v; want context.Canceled", got.a, got.err)
	}
	r.flights.mu.Lock()
	idle := r.flights.cur == nil && r.flights.next == nil
	r.flights.mu.Unlock()
	if !idle {
		t.Fatal("an abandoned fetch is still running after its last caller left")
	}
	unlock()
	if a := mustFetchRepo(t, r); a.Revision != "main@sha1:"+f.c3 {
		t.Fatalf("Fetch after an abandoned one: %s", a.Revision)
	}
}

// TestFetchOwnArtifact: callers sharing a fetch get Artifact values of their own.
func TestFetchOwnArtifact(t *testing.T) {
	f := newFixture(t)
	r, err := New(Options{URL: f.repo.Bare(), CacheDir: t.TempDir()})
	must(t, err)
	unlock, err := lockDir(context.Background(), r.dir)
	must(t, err)
	a, b := fetchAsync(context.Background(), r), fetchAsync(context.Background(), r)
	waitFor(t, r, "two calls on one fetch", func(fl *flights) bool { return fl.cur != nil && fl.cur.waiters == 2 })
	unlock()
	x, y := <-a, <-b
	if x.err != nil || y.err != nil {
		t.Fatal(x.err, y.err)
	}
	x.a.Revision, x.a.Commit.Message = "changed", "changed"
	if y.a.Revision != "main@sha1:"+f.c3 || y.a.Commit.Message != "three\n" {
		t.Fatalf("one caller's change shows in another's artifact: %s %q", y.a.Revision, y.a.Commit.Message)
	}
}

// TestFetchEndedContext: a call whose context has already ended returns its
// error without starting a fetch.
func TestFetchEndedContext(t *testing.T) {
	f := newFixture(t)
	srv := gittest.NewHTTPServer(t, f.repo.Root, gittest.HTTPOptions{})
	r, err := New(Options{URL: srv.URL + "/repo.git", CacheDir: t.TempDir()})
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Fetch(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
	if n := srv.Requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}
