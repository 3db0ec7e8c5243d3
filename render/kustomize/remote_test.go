package kustomize_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// patchServer serves a strategic merge patch of the ConfigMap "app" at every
// path, counting requests.
func patchServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if strings.HasSuffix(r.URL.Path, ".json") {
			_, _ = w.Write([]byte(`[{"op": "add", "path": "/data/fetched", "value": "yes"}]`))
			return
		}
		_, _ = w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  fetched: \"yes\"\n"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, p, content)
	}
	return dir
}

const appConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n"

// TestPluginConfigsFetchNothing: builtin plugin configurations that name a file by
// URL are refused before kustomize's loader fetches it, whatever the plugin and
// wherever its configuration comes from, with an error naming the kustomization,
// the file and the URL without its credentials.
func TestPluginConfigsFetchNothing(t *testing.T) {
	srv, requests := patchServer(t)
	u := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	target := "  target:\n    kind: ConfigMap\n    name: app\n"
	for _, tc := range []struct {
		name   string
		files  map[string]string
		errors string // what the error names before the URL
	}{{
		name: "PatchTransformer path",
		files: map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- patch.yaml\n",
			"patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: " + u + "/patch.yaml\n",
		},
		errors: "/kustomization.yaml: /patch.yaml: remote reference not allowed",
	}, {
		name: "ReplacementTransformer replacements path",
		files: map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- replace.yaml\n",
			"replace.yaml":       "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: r\nreplacements:\n- path: " + u + "/replacement.yaml\n",
		},
		errors: "/kustomization.yaml: /replace.yaml: remote reference not allowed",
	}, {
		name: "PatchStrategicMergeTransformer paths",
		files: map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- smp.yaml\n",
			"smp.yaml":           "apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata:\n  name: s\npaths:\n- " + u + "/patch.yaml\n",
		},
		errors: "/kustomization.yaml: /smp.yaml: remote reference not allowed",
	}, {
		name: "PatchJson6902Transformer path",
		files: map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- json.yaml\n",
			"json.yaml":          "apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata:\n  name: j\npath: " + u + "/patch.json\n" + strings.ReplaceAll(target, "  target", "target"),
		},
		errors: "/kustomization.yaml: /json.yaml: remote reference not allowed",
	}, {
		name: "ConfigMapGenerator files",
		files: map[string]string{
			"kustomization.yaml": "generators:\n- gen.yaml\n",
			"gen.yaml":           "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: metadata\nfiles:\n- token=" + u + "/latest/token\n",
		},
		errors: "/kustomization.yaml: /gen.yaml: remote reference not allowed",
	}, {
		name: "ConfigMapGenerator envs",
		files: map[string]string{
			"kustomization.yaml": "generators:\n- gen.yaml\n",
			"gen.yaml":           "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: metadata\nenvs:\n- " + u + "/env\n",
		},
		errors: "/kustomization.yaml: /gen.yaml: remote reference not allowed",
	}, {
		name: "SecretGenerator files",
		files: map[string]string{
			"kustomization.yaml": "generators:\n- gen.yaml\n",
			"gen.yaml":           "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: metadata\nfiles:\n- " + u + "/token\n",
		},
		errors: "/kustomization.yaml: /gen.yaml: remote reference not allowed",
	}, {
		name: "inline transformer",
		files: map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata:\n    name: p\n  path: " + u + "/patch.yaml\n",
		},
		errors: "/kustomization.yaml: remote reference not allowed",
	}, {
		name: "transformers directory",
		files: map[string]string{
			"kustomization.yaml":         "resources:\n- cm.yaml\ntransformers:\n- plugins\n",
			"plugins/kustomization.yaml": "resources:\n- patch.yaml\n",
			"plugins/patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: " + u + "/patch.yaml\n",
		},
		errors: "/plugins/kustomization.yaml: /plugins/patch.yaml: remote reference not allowed",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["cm.yaml"] = appConfigMap
			dir := writeTree(t, tc.files)
			requests.Store(0)
			_, err := build(t, kustomize.New(kustomize.Options{}), dir, ".")
			if n := requests.Load(); n != 0 {
				t.Errorf("the server got %d requests, want none", n)
			}
			rendertest.WantError(t, err, render.ErrRemote, tc.errors+": http://***@127.0.0.1")
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestPluginConfigsFetchWithAllowRemote: with AllowRemote, a plugin's remote
// file is fetched as kustomize fetches it.
func TestPluginConfigsFetchWithAllowRemote(t *testing.T) {
	srv, requests := patchServer(t)
	dir := writeTree(t, map[string]string{
		"kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- patch.yaml\n",
		"cm.yaml":            appConfigMap,
		"patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: " + srv.URL + "/patch.yaml\n",
	})
	res, err := kustomize.New(kustomize.Options{AllowRemote: true}).Render(context.Background(), render.Input{FS: openRoot(t, dir).FS()}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Manifests[0].Object.Object["data"].(map[string]any)["fetched"]; got != "yes" {
		t.Errorf("data.fetched = %v, want the patch fetched from the server applied", got)
	}
	if requests.Load() == 0 {
		t.Error("the server got no request")
	}
}
