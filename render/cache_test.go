package render_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/render"
)

// counting counts the renders that reach it.
type counting struct {
	render.Renderer
	n atomic.Int64
}

func (c *counting) Render(ctx context.Context, in render.Input, opts render.Options) (*render.Result, error) {
	c.n.Add(1)
	return c.Renderer.Render(ctx, in, opts)
}

func TestCache(t *testing.T) {
	fsys := fstest.MapFS{"a.yaml": {Data: []byte(cm("a"))}}
	next := &counting{Renderer: render.Plain{}}
	c := render.NewCache(next, 2)
	ctx := context.Background()
	in := render.Input{FS: fsys, Digest: "sha256:1"}

	first, err := c.Render(ctx, in, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first.Manifests[0].Object.SetName("changed-by-caller")
	second, err := c.Render(ctx, in, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if next.n.Load() != 1 {
		t.Errorf("rendered %d times, want 1", next.n.Load())
	}
	if second.Manifests[0].Object.GetName() != "a" {
		t.Error("a caller's change to a result reached the cache")
	}
	// Other options, digests and directories are other keys; no digest is never cached.
	for _, k := range []struct {
		in   render.Input
		opts render.Options
	}{
		{in, render.Options{Exclude: []string{"x"}}},
		{render.Input{FS: fsys, Digest: "sha256:2"}, render.Options{}},
		{render.Input{FS: fsys}, render.Options{}},
		{render.Input{FS: fsys}, render.Options{}},
	} {
		if _, err := c.Render(ctx, k.in, k.opts); err != nil {
			t.Fatal(err)
		}
	}
	if next.n.Load() != 5 {
		t.Errorf("rendered %d times, want 5", next.n.Load())
	}
	// Size 2: the first key was evicted by the two after it.
	if _, err := c.Render(ctx, in, render.Options{}); err != nil || next.n.Load() != 6 {
		t.Errorf("after eviction: rendered %d times, want 6 (%v)", next.n.Load(), err)
	}
	hits, misses := c.Stats()
	if hits != 1 || misses != 4 {
		t.Errorf("stats = %d hits, %d misses; want 1, 4", hits, misses)
	}
}

func TestCacheConcurrent(t *testing.T) {
	fsys := fstest.MapFS{"a.yaml": {Data: []byte(cm("a"))}}
	c := render.NewCache(render.Plain{}, 4)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			in := render.Input{FS: fsys, Digest: string(rune('a' + i%6))}
			res, err := c.Render(context.Background(), in, render.Options{})
			if err != nil || len(res.Manifests) != 1 {
				t.Errorf("render: %v", err)
				return
			}
			res.Manifests[0].Object.SetLabels(map[string]string{"i": "x"})
		})
	}
	wg.Wait()
}

// pinning is a Pinner whose remote content changes when pin does.
type pinning struct {
	counting
	pin string
}

func (p *pinning) Pin(context.Context, render.Input, render.Options) (string, error) {
	return p.pin, nil
}

func TestCachePinnedThroughAuto(t *testing.T) {
	next := &pinning{counting: counting{Renderer: render.Plain{}}, pin: "web 1.0.0"}
	c := render.NewCache(render.Auto{Helm: next}, 0)
	ctx := context.Background()
	in := render.Input{FS: fstest.MapFS{"a.yaml": {Data: []byte(cm("a"))}}, Digest: "sha256:1"}
	// A remote chart goes to the Helm renderer, whatever the directory holds.
	opts := render.Options{Helm: render.HelmOptions{Chart: &render.HelmChart{Repository: "https://charts.example.com", Name: "web"}}}
	for i, pin := range []string{"web 1.0.0", "web 1.0.0", "web 1.1.0"} {
		next.pin = pin
		if _, err := c.Render(ctx, in, opts); err != nil {
			t.Fatal(err)
		}
		if got, want := next.n.Load(), []int64{1, 1, 2}[i]; got != want {
			t.Errorf("render %d with pin %q: %d renders reached the renderer, want %d", i+1, pin, got, want)
		}
	}
	if _, err := (render.Auto{}).Render(ctx, in, opts); err == nil {
		t.Error("a remote chart rendered without a Helm renderer")
	}
}

// Hits hand out copies made ahead of time or on the spot; either way each is the
// caller's own, whatever earlier callers did to theirs.
func TestCacheHitsAreOwnCopies(t *testing.T) {
	fsys := fstest.MapFS{"a.yaml": {Data: []byte(cm("a"))}, "b.yaml": {Data: []byte(cm("b"))}}
	c := render.NewCache(render.Plain{}, 2)
	ctx := context.Background()
	ins := []render.Input{{FS: fsys, Digest: "sha256:1"}, {FS: fsys, Digest: "sha256:2"}}
	seen := map[*unstructured.Unstructured]bool{}
	for i := range 40 {
		if i%3 == 0 {
			time.Sleep(time.Millisecond) // time for a copy ahead
		}
		res, err := c.Render(ctx, ins[i/10%2], render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.Manifests); got != 2 {
			t.Fatalf("hit %d: %d objects, want 2", i, got)
		}
		for _, m := range res.Manifests {
			if seen[m.Object] {
				t.Fatalf("hit %d handed out an object a caller had before", i)
			}
			seen[m.Object] = true
			if n := m.Object.GetName(); n != "a" && n != "b" {
				t.Fatalf("hit %d: object named %q: an earlier caller's change reached the cache", i, n)
			}
			m.Object.SetName("changed-by-caller")
		}
	}
	if hits, misses := c.Stats(); hits != 38 || misses != 2 {
		t.Errorf("stats = %d hits, %d misses; want 38, 2", hits, misses)
	}
}
