package helm_test

import (
	"context"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
)

// engine hides that it is V3, so that the renderer decodes its Output as it
// decodes any engine's.
type engine struct{ helm.Engine }

// edgeChart's output has what decoding ahead must read as the renderer reads
// Output: block scalars that end a document (a manifest's and a hook's), a List,
// annotations that are numbers, an unknown hook, a test hook, documents that
// declare nothing.
var edgeChart = fstest.MapFS{
	"c/Chart.yaml": {Data: []byte("apiVersion: v2\nname: c\nversion: 1.0.0\n")},
	"c/templates/cm.yaml": {Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: a, annotations: {n: 1.10}}
data:
  s: |
    ends the document
---
# nothing
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Secret, metadata: {name: s}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, labels: {v: 1.10}}
data:
  s: |
    ends the file
`)},
	"c/templates/hooks.yaml": {Data: []byte(`apiVersion: batch/v1
kind: Job
metadata:
  name: j
  annotations: {helm.sh/hook: pre-install}
spec:
  s: |
    ends the hook
---
apiVersion: v1
kind: Pod
metadata:
  name: t
  annotations: {helm.sh/hook: test}
---
apiVersion: v1
kind: Pod
metadata:
  name: u
  annotations: {helm.sh/hook: "pre-install,bogus"}
`)},
}

// TestDecodedAheadAsAfter checks that the V3 engine's documents decoded ahead
// give the renderer the objects, origins, warnings and errors that decoding
// the engine's Output gives.
func TestDecodedAheadAsAfter(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  string
		opts render.Options
	}{
		{name: "edge cases", dir: "c", opts: render.Options{Helm: render.HelmOptions{IncludeTests: true}}},
		{name: "edge cases, object limit", dir: "c", opts: render.Options{Limits: render.Limits{MaxObjects: 3}}},
		{name: "shop", dir: "shop", opts: render.Options{Helm: prod}},
		{name: "shop with tests", dir: "shop", opts: render.Options{Helm: render.HelmOptions{IncludeTests: true}}},
		{name: "monitor", dir: "monitor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := render.Input{FS: edgeChart, Dir: tc.dir}
			switch tc.dir {
			case "shop":
				in.FS = artifact(t, "testdata/artifact")
			case "monitor":
				in.FS = artifact(t, "testdata/monitor")
			}
			ahead, aheadErr := helm.New(helm.Options{}).Render(context.Background(), in, tc.opts)
			after, afterErr := helm.New(helm.Options{Engine: engine{helm.V3(logr.Discard())}}).Render(context.Background(), in, tc.opts)
			if (aheadErr == nil) != (afterErr == nil) || aheadErr != nil && aheadErr.Error() != afterErr.Error() {
				t.Fatalf("error %v, decoding after: %v", aheadErr, afterErr)
			}
			if aheadErr != nil {
				return
			}
			if len(ahead.Manifests) == 0 || !reflect.DeepEqual(ahead, after) {
				t.Errorf("decoded ahead:\n%v\n\nafter:\n%v", ahead, after)
			}
		})
	}
}
