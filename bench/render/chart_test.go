package render_test

import (
	"bytes"
	"context"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
)

// writeFleet writes workload.WriteChart's chart (300 templates, 1,002 objects)
// and returns the artifact root; the chart is "fleet".
func writeFleet(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	if err := workload.WriteChart(filepath.Join(root, "fleet")); err != nil {
		b.Fatal(err)
	}
	return root
}

// loadFleet loads the chart "fleet" of root and its values, as release "bench"
// in namespace "bench", for Helm's bare engine.
func loadFleet(b *testing.B, root string) (*chart.Chart, chartutil.Values) {
	b.Helper()
	ch, err := loader.Load(filepath.Join(root, "fleet"))
	if err != nil {
		b.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, map[string]any{},
		chartutil.ReleaseOptions{Name: "bench", Namespace: "bench", Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		b.Fatal(err)
	}
	return ch, vals
}

// BenchmarkHelmEngine renders the 300-template chart with the Helm renderer (read
// from the artifact, loaded, values coalesced, rendered, sorted, decoded into
// objects) and with Helm's bare engine.Render on the chart and values loaded
// once, and reports how many times the engine's time the renderer takes.
func BenchmarkHelmEngine(b *testing.B) {
	root := writeFleet(b)
	in := open(b, root)
	in.Dir = "fleet"
	r := helm.New(helm.Options{})
	opts := render.Options{Helm: render.HelmOptions{ReleaseName: "bench", Namespace: "bench"}}
	ch, vals := loadFleet(b, root)
	var oursTime, engineTime time.Duration
	for b.Loop() {
		start := time.Now()
		res, err := r.Render(context.Background(), in, opts)
		if err != nil {
			b.Fatal(err)
		}
		oursTime += time.Since(start)
		if len(res.Manifests) != workload.ChartObjects {
			b.Fatalf("rendered %d objects, want %d", len(res.Manifests), workload.ChartObjects)
		}

		start = time.Now()
		out, err := engine.Engine{}.Render(ch, vals)
		if err != nil {
			b.Fatal(err)
		}
		engineTime += time.Since(start)
		if len(out) != workload.ChartTemplates {
			b.Fatalf("engine rendered %d templates, want %d", len(out), workload.ChartTemplates)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(oursTime.Nanoseconds())/n, "gitopskit-ns/op")
	b.ReportMetric(float64(engineTime.Nanoseconds())/n, "engine-ns/op")
	b.ReportMetric(float64(oursTime)/float64(engineTime), "x-engine-time")
}

// BenchmarkHelmDecode decodes what Helm's engine renders of the 300-template
// chart, document by document as render/helm reads it (object.Decoder.Lenient),
// on one goroutine: the cost of the renderer's reading of a chart's output.
func BenchmarkHelmDecode(b *testing.B) {
	root := writeFleet(b)
	ch, vals := loadFleet(b, root)
	out, err := engine.Engine{}.Render(ch, vals)
	if err != nil {
		b.Fatal(err)
	}
	type doc struct{ name, content string }
	var docs []doc
	for _, name := range slices.Sorted(maps.Keys(out)) {
		for _, d := range releaseutil.SplitManifests(out[name]) {
			if strings.TrimSpace(d) != "" {
				docs = append(docs, doc{name, d + "\n"})
			}
		}
	}
	dec := object.Decoder{Lenient: true}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, d := range docs {
			ms, err := dec.Decode(strings.NewReader(d.content), d.name)
			if err != nil {
				b.Fatal(err)
			}
			n += len(ms)
		}
		if n != workload.ChartObjects {
			b.Fatalf("decoded %d objects, want %d", n, workload.ChartObjects)
		}
	}
}

// BenchmarkHelmProcess runs bench/cmd/helmtemplate (render/helm, objects printed
// as YAML) and `helm template` on the 300-template chart, each a whole process,
// and reports how many times helm's time ours takes, in elapsed time and in
// CPU time (user and system), which other work on a shared machine disturbs
// less.
func BenchmarkHelmProcess(b *testing.B) {
	bin := testtool.Require(b, "helm")
	goTool := testtool.Require(b, "go")
	ours := filepath.Join(b.TempDir(), "helmtemplate")
	if out, err := exec.Command(goTool, "build", "-o", ours, "github.com/gitopskit/gitopskit/bench/cmd/helmtemplate").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	root := writeFleet(b)
	var oursTime, cliTime, oursCPU, cliCPU time.Duration
	for b.Loop() {
		for _, c := range []struct {
			cmd        *exec.Cmd
			total, cpu *time.Duration
		}{
			{exec.Command(ours, "bench", "fleet", "bench"), &oursTime, &oursCPU},
			{exec.Command(bin, "template", "bench", "fleet", "-n", "bench"), &cliTime, &cliCPU},
		} {
			var stdout, stderr bytes.Buffer
			c.cmd.Dir, c.cmd.Stdout, c.cmd.Stderr = root, &stdout, &stderr
			start := time.Now()
			if err := c.cmd.Run(); err != nil {
				b.Fatalf("%s: %v\n%.2000s", c.cmd, err, stderr.Bytes())
			}
			*c.total += time.Since(start)
			*c.cpu += c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
			if n := bytes.Count(stdout.Bytes(), []byte("\nkind: ")); n != workload.ChartObjects {
				b.Fatalf("%s printed %d objects, want %d", c.cmd, n, workload.ChartObjects)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(oursTime.Nanoseconds())/n, "gitopskit-ns/op")
	b.ReportMetric(float64(cliTime.Nanoseconds())/n, "cli-ns/op")
	b.ReportMetric(float64(oursTime)/float64(cliTime), "x-cli-time")
	b.ReportMetric(float64(oursCPU)/float64(cliCPU), "x-cli-cpu")
}
