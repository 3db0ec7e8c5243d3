// Command peakrss measures the peak resident memory of a render that hits a limit:
// each case builds a large input in a temporary directory, renders it with the
// default limits, and prints the error and the process's peak RSS (VmHWM). Run one
// case per process, so that each peak is its own:
//
//	cd bench && go build -o /tmp/peakrss ./cmd/peakrss
//	for c in helm-output helm-values kustomize-resource kustomize-generator substitute; do /tmp/peakrss $c; done
//
// It is a measurement, not a test: nothing here runs under go test.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

const bigFile = 1 << 30 // bytes of a "giant file" case

var cases = map[string]func(ctx context.Context, dir string) error{
	"helm-output":          helmOutput,
	"helm-output-isolated": helmOutputIsolated,
	"helm-values":          helmValues,
	"kustomize-resource":   kustomizeResource,
	"kustomize-generator":  kustomizeGenerator,
	"substitute":           substitute,
}

func main() {
	if isolate.Child() {
		return
	}
	if len(os.Args) != 2 || cases[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: peakrss helm-output|helm-output-isolated|helm-values|kustomize-resource|kustomize-generator|substitute")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "peakrss-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	err = cases[os.Args[1]](context.Background(), dir)
	msg := "<nil>"
	if err != nil {
		msg = err.Error()
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
	}
	fmt.Printf("%s\tlimit %d MiB\tpeak %s\terr: %s\n", os.Args[1], render.DefaultMaxBytes>>20, hwm(), msg)
}

// hwm returns the process's peak resident set size as /proc/self/status says it.
func hwm() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func input(dir string) render.Input {
	root, err := os.OpenRoot(dir)
	if err != nil {
		panic(err)
	}
	return render.Input{FS: root.FS(), Dir: "."}
}

// writeBig writes a file of about n bytes made of head, then lines of filler, then tail.
func writeBig(name, head, line, tail string, n int) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(head)
	for written := len(head); written < n; written += len(line) {
		w.WriteString(line)
	}
	w.WriteString(tail)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func writeFiles(dir string, files map[string]string) error {
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// helmOutput renders a chart whose one template writes about 400 MB (19,000
// objects, under the default limit on objects).
func helmOutput(ctx context.Context, dir string) error {
	if err := writeBigChart(dir); err != nil {
		return err
	}
	res, err := helm.New(helm.Options{}).Render(ctx, input(dir), render.Options{})
	if err == nil {
		err = fmt.Errorf("no error: %d objects", len(res.Manifests))
	}
	return err
}

// helmOutputIsolated renders the chart of helmOutput in a child process
// (render/isolate, as the example programs do, with the child's memory limit at
// twice the render limit instead of its 1 GiB default): the child is stopped at
// its memory limit, and this process's peak is its own.
func helmOutputIsolated(ctx context.Context, dir string) error {
	if err := writeBigChart(dir); err != nil {
		return err
	}
	// The child may use twice the render limit, its Go runtime included.
	limits := isolate.Limits{Memory: 2 * render.DefaultMaxBytes}
	r := isolate.New(isolate.Options{Spec: isolate.Spec{Kind: render.KindHelm, Helm: &isolate.HelmSpec{}}, Limits: limits})
	res, err := r.Render(ctx, input(dir), render.Options{})
	if err == nil {
		err = fmt.Errorf("no error: %d objects", len(res.Manifests))
	}
	return err
}

// writeBigChart writes a chart whose one template prints about 400 MB.
func writeBigChart(dir string) error {
	return writeFiles(dir, map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: big\nversion: 1.0.0\n",
		"values.yaml": "count: 19000\npad: " + strings.Repeat("x", 21000) + "\n",
		"templates/cm.yaml": `{{- range $i := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c{{ $i }}
data:
  pad: {{ $.Values.pad }}
{{- end }}
`,
	})
}

// helmValues renders a small chart with a 1 GiB values file.
func helmValues(ctx context.Context, dir string) error {
	err := writeFiles(dir, map[string]string{
		"chart/Chart.yaml":        "apiVersion: v2\nname: small\nversion: 1.0.0\n",
		"chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
	})
	if err != nil {
		return err
	}
	if err := writeBig(filepath.Join(dir, "big-values.yaml"), "big: |\n", "  "+strings.Repeat("x", 1022)+"\n", "", bigFile); err != nil {
		return err
	}
	opts := render.Options{Helm: render.HelmOptions{ValuesFiles: []string{"big-values.yaml"}}}
	in := input(dir)
	in.Dir = "chart"
	_, err = helm.New(helm.Options{}).Render(ctx, in, opts)
	return err
}

// kustomizeResource builds a kustomization listing a 1 GiB resource file.
func kustomizeResource(ctx context.Context, dir string) error {
	if err := writeFiles(dir, map[string]string{"kustomization.yaml": "resources:\n- big.yaml\n"}); err != nil {
		return err
	}
	head := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  big: |\n"
	if err := writeBig(filepath.Join(dir, "big.yaml"), head, "    "+strings.Repeat("x", 1020)+"\n", "", bigFile); err != nil {
		return err
	}
	_, err := kustomize.New(kustomize.Options{}).Render(ctx, input(dir), render.Options{})
	return err
}

// kustomizeGenerator builds a kustomization whose configMapGenerator reads a 1 GiB file.
func kustomizeGenerator(ctx context.Context, dir string) error {
	err := writeFiles(dir, map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: big\n  files:\n  - big.txt\n"})
	if err != nil {
		return err
	}
	if err := writeBig(filepath.Join(dir, "big.txt"), "", strings.Repeat("x", 1023)+"\n", "", bigFile); err != nil {
		return err
	}
	_, err = kustomize.New(kustomize.Options{}).Render(ctx, input(dir), render.Options{})
	return err
}

// substitute substitutes a 1 MiB variable 1,000 times into one object: 1 GiB of output.
func substitute(_ context.Context, _ string) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c"},
		"data":     map[string]any{"v": strings.Repeat("${V}", 1000)},
	}}
	res := &render.Result{Manifests: []object.Manifest{{Object: u}}}
	return render.Transform{Vars: map[string]string{"V": strings.Repeat("v", 1<<20)}}.Apply(res)
}
