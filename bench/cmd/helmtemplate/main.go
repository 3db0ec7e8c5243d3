// Command helmtemplate renders a chart with render/helm and prints its objects as
// YAML, like `helm template RELEASE CHART -n NAMESPACE`: the whole-process half
// of bench/render's BenchmarkHelmProcess, which runs it beside the helm program.
//
//	helmtemplate RELEASE CHART NAMESPACE
//
// CHART is a directory below the working directory, which is the artifact root.
// It is a measurement, not a tool: it takes no other options.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	yaml "go.yaml.in/yaml/v2"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: helmtemplate RELEASE CHART NAMESPACE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(release, chart, namespace string) error {
	root, err := os.OpenRoot(".")
	if err != nil {
		return err
	}
	defer root.Close()
	res, err := helm.New(helm.Options{}).Render(context.Background(), render.Input{FS: root.FS(), Dir: chart},
		render.Options{Helm: render.HelmOptions{ReleaseName: release, Namespace: namespace}})
	if err != nil {
		return err
	}
	// The objects hold only what JSON can (maps, lists, strings, numbers,
	// booleans, null): go-yaml writes them as sigs.k8s.io/yaml would, without
	// the trip through JSON.
	docs := make([][]byte, len(res.Manifests))
	errs := make([]error, len(res.Manifests))
	parallel.Split(len(res.Manifests), 64, func(i int) {
		docs[i], errs[i] = yaml.Marshal(res.Manifests[i].Object.Object)
	})
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	for i, m := range res.Manifests {
		if errs[i] != nil {
			return fmt.Errorf("%s: %w", m.Origin, errs[i])
		}
		fmt.Fprintf(w, "---\n# Source: %s\n", m.Origin.File)
		w.Write(docs[i])
	}
	return w.Flush()
}
