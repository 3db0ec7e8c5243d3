package render_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// What a reader would silently change or read at random is refused alike in plain
// YAML, through kustomize and in a chart's output, naming the file and the field.
func TestBadInputRefusedByEveryRenderer(t *testing.T) {
	auto := render.Auto{Kustomize: kustomize.New(kustomize.Options{}), Helm: helm.New(helm.Options{})}
	for _, tc := range []struct {
		name, file, content string
		lenientKeeps        bool   // Helm's output keeps the last of a key written twice
		want                string // in the message of every renderer
		wantAt              string // "file:line" where plain YAML and kustomize report it
	}{{
		name:         "JSON key written twice",
		file:         "cm.json",
		content:      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"safe","namespace":"kube-system"}}` + "\n",
		lenientKeeps: true,
		want:         `namespace`,
		wantAt:       "cm.json:1",
	}, {
		name:    "keys 1 and \"1\"",
		file:    "cm.yaml",
		content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  1: a\n  \"1\": b\n",
		want:    `data: keys 1 (line 6) and "1" (line 7) are the same key "1"`,
		wantAt:  "cm.yaml:7",
	}, {
		name:    "replicas beyond int64",
		file:    "deploy.yaml",
		content: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 99999999999999999999\n",
		want:    "spec.replicas: 99999999999999999999 does not fit a 64-bit integer",
		wantAt:  "deploy.yaml:6",
	}, {
		name:    "name y",
		file:    "cm.yaml",
		content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
		want:    "ConfigMap: metadata.name: y is read as the boolean true, not a string: quote it",
		wantAt:  "cm.yaml:",
	}, {
		name:    "namespace on",
		file:    "cm.yaml",
		content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: on\n",
		want:    "ConfigMap a: metadata.namespace: on is read as the boolean true, not a string: quote it",
		wantAt:  "cm.yaml:",
	}, {
		name:    "kind yes",
		file:    "cm.yaml",
		content: "apiVersion: v1\nkind: yes\nmetadata:\n  name: a\n",
		want:    "kind: yes is read as the boolean true, not a string: quote it",
		wantAt:  "cm.yaml:",
	}, {
		name:    "apiVersion 1",
		file:    "cm.yaml",
		content: "apiVersion: 1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		want:    "apiVersion: 1 is read as a number, not a string: quote it",
		wantAt:  "cm.yaml:1",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"plain/" + tc.file:                 {Data: []byte(tc.content)},
				"kust/" + tc.file:                  {Data: []byte(tc.content)},
				"kust/kustomization.yaml":          {Data: []byte("resources: [" + tc.file + "]\n")},
				"chart/Chart.yaml":                 {Data: []byte("apiVersion: v2\nname: chart\nversion: 0.1.0\n")},
				"chart/templates/" + tc.file:       {Data: []byte(tc.content)},
				"flux/apps/" + tc.file:             {Data: []byte(tc.content)},
				"flux/apps/sub/kustomization.yaml": {Data: []byte("resources: []\n")},
			}
			dirs := []string{"plain", "kust", "chart", "flux/apps"}
			if strings.HasSuffix(tc.file, ".json") {
				dirs = dirs[:3] // Flux's generated kustomization takes YAML files only
			}
			for _, dir := range dirs {
				_, err := auto.Render(context.Background(), render.Input{FS: fsys, Dir: dir}, render.Options{Helm: render.HelmOptions{ReleaseName: "r"}})
				if dir == "chart" && tc.lenientKeeps {
					if err != nil {
						t.Errorf("%s: %v", dir, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: rendered", dir)
					continue
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q, want one with %q", dir, err, tc.want)
				}
				if !errors.Is(err, object.ErrInvalid) {
					t.Errorf("%s: error %v is not object.ErrInvalid", dir, err)
				}
				if at := dir + "/" + tc.wantAt; dir != "chart" && !strings.Contains(err.Error(), at) {
					t.Errorf("%s: error %q, want one at %s", dir, err, at)
				}
			}
		})
	}
}

// An integer beyond int64 that a patch brings is refused too, naming the object.
func TestKustomizePatchNumberRefused(t *testing.T) {
	fsys := fstest.MapFS{
		"k/kustomization.yaml": {Data: []byte("resources: [deploy.yaml]\npatches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n    spec: {replicas: 99999999999999999999}\n")},
		"k/deploy.yaml":        {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n")},
	}
	_, err := kustomize.New(kustomize.Options{}).Render(context.Background(), render.Input{FS: fsys, Dir: "k"}, render.Options{})
	want := "k/deploy.yaml: invalid object: Deployment web: spec.replicas: 99999999999999999999 does not fit a 64-bit integer"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, object.ErrInvalid) {
		t.Fatalf("error %v, want one with %q", err, want)
	}
}
