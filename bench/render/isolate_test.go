package render_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/isolate"
)

// TestMain lets this binary be the child of the isolated renderer.
func TestMain(m *testing.M) {
	if isolate.Child() {
		return
	}
	os.Exit(m.Run())
}

// BenchmarkIsolated renders the 2,000-resource kustomization and the
// 1,000-object chart in process and in a child (isolate.Renderer), in turns, cold
// and through a render.Cache (a hit), and reports the isolated/in-process ratio
// of each. A cache hit starts no child, so its ratio is the cost of isolation in
// a loop that renders the same revision again.
func BenchmarkIsolated(b *testing.B) {
	const hits = 20
	kroot, hroot := writeKustomization(b), writeChart(b)
	kin, hin := open(b, kroot), open(b, hroot)
	kin.Dir, kin.Digest = "overlay", "sha256:k"
	hin.Dir, hin.Digest = "chart", "sha256:h"
	spec := isolate.Spec{Kustomize: &isolate.KustomizeSpec{}, Helm: &isolate.HelmSpec{}}
	for _, tc := range []struct {
		name string
		in   render.Input
	}{{"kustomize", kin}, {"helm", hin}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			renderers := []render.Renderer{spec.InProcess(), isolate.New(isolate.Options{Spec: spec})}
			var cold, hit [2]time.Duration
			for b.Loop() {
				for i, r := range renderers {
					c := render.NewCache(r, 1)
					start := time.Now()
					res, err := c.Render(ctx, tc.in, render.Options{})
					if err != nil {
						b.Fatal(err)
					}
					cold[i] += time.Since(start)
					if len(res.Manifests) < 1000 {
						b.Fatalf("%d objects", len(res.Manifests))
					}
					runtime.GC()
					// Hits some time apart, as in a loop over one revision.
					for range hits {
						time.Sleep(20 * time.Millisecond)
						start = time.Now()
						if _, err := c.Render(ctx, tc.in, render.Options{}); err != nil {
							b.Fatal(err)
						}
						hit[i] += time.Since(start)
					}
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(cold[0].Nanoseconds())/n, "cold-ns/op")
			b.ReportMetric(float64(cold[1].Nanoseconds())/n, "isolated-cold-ns/op")
			b.ReportMetric(float64(cold[1])/float64(cold[0]), "cold-ratio")
			b.ReportMetric(float64(hit[0].Nanoseconds())/n/hits, "hit-ns/op")
			b.ReportMetric(float64(hit[1].Nanoseconds())/n/hits, "isolated-hit-ns/op")
			b.ReportMetric(float64(hit[1])/float64(hit[0]), "hit-ratio")
		})
	}
}
