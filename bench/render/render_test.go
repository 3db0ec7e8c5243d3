package render_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/helm/helm4"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// sideBySide runs ours and the CLI command b.N times each, in turns, and reports
// their times per run and how many times faster ours is.
func sideBySide(b *testing.B, ours func() int, cli *exec.Cmd, minObjects int) {
	b.Helper()
	var oursTime, cliTime time.Duration
	for b.Loop() {
		start := time.Now()
		if n := ours(); n < minObjects {
			b.Fatalf("rendered %d objects, want at least %d", n, minObjects)
		}
		oursTime += time.Since(start)

		start = time.Now()
		c := exec.Command(cli.Path, cli.Args[1:]...)
		c.Dir = cli.Dir
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%.2000s", c, err, out)
		}
		cliTime += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(oursTime.Nanoseconds())/n, "gitopskit-ns/op")
	b.ReportMetric(float64(cliTime.Nanoseconds())/n, "cli-ns/op")
	b.ReportMetric(float64(cliTime)/float64(oursTime), "x-faster-than-cli")
}

func open(b *testing.B, dir string) render.Input {
	b.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { root.Close() })
	return render.Input{FS: root.FS()}
}

// BenchmarkKustomize builds an overlay of 2,000 resources with the kustomize
// renderer and with `kustomize build`.
func BenchmarkKustomize(b *testing.B) {
	bin := testtool.Require(b, "kustomize")
	root := writeKustomization(b)
	in := open(b, root)
	in.Dir = "overlay"
	r := kustomize.New(kustomize.Options{})
	ours := func() int {
		res, err := r.Render(context.Background(), in, render.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return len(res.Manifests)
	}
	cmd := exec.Command(bin, "build", "overlay")
	cmd.Dir = root
	sideBySide(b, ours, cmd, kustomizeResources)
}

// BenchmarkHelm renders a chart of 1,000 objects with the Helm renderer, with
// each engine (helm.V3, the default, and helm4.New), and with `helm template`
// of Helm 3 (helm) and of Helm 4 (helm4): each engine against each program.
func BenchmarkHelm(b *testing.B) {
	root := writeChart(b)
	in := open(b, root)
	in.Dir = "chart"
	opts := render.Options{Helm: render.HelmOptions{ReleaseName: "bench", Namespace: "bench"}}
	renders := map[string]func() int{}
	for _, engine := range []struct {
		name   string
		engine helm.Engine
	}{{"v3", helm.V3(logr.Discard())}, {"v4", helm4.New(logr.Discard())}} {
		r := helm.New(helm.Options{Engine: engine.engine})
		ours := func() int {
			res, err := r.Render(context.Background(), in, opts)
			if err != nil {
				b.Fatal(err)
			}
			return len(res.Manifests)
		}
		renders[engine.name] = ours
		for _, program := range []string{"helm", "helm4"} {
			b.Run(engine.name+"-vs-"+program, func(b *testing.B) {
				cmd := exec.Command(testtool.Require(b, program), "template", "bench", "chart", "-n", "bench")
				cmd.Dir = root
				sideBySide(b, ours, cmd, chartObjects)
			})
		}
	}
	// The engines in turns, in process: how many times V3's time Helm 4's takes.
	b.Run("v4-vs-v3", func(b *testing.B) {
		var v3, v4 time.Duration
		for b.Loop() {
			for _, e := range []struct {
				render func() int
				total  *time.Duration
			}{{renders["v3"], &v3}, {renders["v4"], &v4}} {
				start := time.Now()
				if n := e.render(); n < chartObjects {
					b.Fatalf("rendered %d objects, want at least %d", n, chartObjects)
				}
				*e.total += time.Since(start)
			}
		}
		b.ReportMetric(float64(v3.Nanoseconds())/float64(b.N), "v3-ns/op")
		b.ReportMetric(float64(v4.Nanoseconds())/float64(b.N), "v4-ns/op")
		b.ReportMetric(float64(v4)/float64(v3), "x-v3-time")
	})
}

// BenchmarkCache compares a cache hit with a cold render of the same input (same
// digest and options), for the 2,000-resource kustomization and the 1,000-object
// chart: a hit some time after the render (the loop's case: the copy it hands out
// was made ahead), and a second hit at once (the copy is made on the spot).
func BenchmarkCache(b *testing.B) {
	kroot, hroot := writeKustomization(b), writeChart(b)
	kin, hin := open(b, kroot), open(b, hroot)
	kin.Dir, kin.Digest = "overlay", "sha256:k"
	hin.Dir, hin.Digest = "chart", "sha256:h"
	for _, tc := range []struct {
		name string
		in   render.Input
	}{{"kustomize", kin}, {"helm", hin}} {
		b.Run(tc.name, func(b *testing.B) {
			auto := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
			ctx := context.Background()
			var cold, hit, again time.Duration
			for b.Loop() {
				c := render.NewCache(auto, 1)
				start := time.Now()
				if _, err := c.Render(ctx, tc.in, render.Options{}); err != nil {
					b.Fatal(err)
				}
				cold += time.Since(start)
				// The cold render's garbage is collected outside the timing, so the
				// hit is not charged for it.
				runtime.GC()
				start = time.Now()
				if _, err := c.Render(ctx, tc.in, render.Options{}); err != nil {
					b.Fatal(err)
				}
				hit += time.Since(start)
				// A second hit at once, before the cache has made the next copy
				// ahead: it copies on the spot.
				start = time.Now()
				if _, err := c.Render(ctx, tc.in, render.Options{}); err != nil {
					b.Fatal(err)
				}
				again += time.Since(start)
				if h, _ := c.Stats(); h != 2 {
					b.Fatalf("%d cache hits, want 2", h)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(cold.Nanoseconds())/n, "cold-ns/op")
			b.ReportMetric(float64(hit.Nanoseconds())/n, "hit-ns/op")
			b.ReportMetric(float64(again.Nanoseconds())/n, "hit-at-once-ns/op")
			b.ReportMetric(float64(cold)/float64(hit), "x-faster-hit")
			b.ReportMetric(float64(cold)/float64(again), "x-faster-hit-at-once")
		})
	}
}
