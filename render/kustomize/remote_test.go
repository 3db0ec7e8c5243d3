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
	// listed is a kustomization listing file under list, and file configuring a
	// builtin plugin: kind, then fields.
	listed := func(list, file, kind, fields string) map[string]string {
		return map[string]string{
			"kustomization.yaml": "resources:\n- cm.yaml\n" + list + ":\n- " + file + "\n",
			file:                 "apiVersion: builtin\nkind: " + kind + "\nmetadata:\n  name: p\n" + fields,
		}
	}
	const listedErr = "/kustomization.yaml: /plugin.yaml: remote reference not allowed"
	for _, tc := range []struct {
		name   string
		files  map[string]string
		errors string // what the error names before the URL
	}{{
		name:   "PatchTransformer path",
		files:  listed("transformers", "plugin.yaml", "PatchTransformer", "path: "+u+"/patch.yaml\n"),
		errors: listedErr,
	}, {
		name:   "ReplacementTransformer replacements path",
		files:  listed("transformers", "plugin.yaml", "ReplacementTransformer", "replacements:\n- path: "+u+"/replacement.yaml\n"),
		errors: listedErr,
	}, {
		name:   "PatchStrategicMergeTransformer paths",
		files:  listed("transformers", "plugin.yaml", "PatchStrategicMergeTransformer", "paths:\n- "+u+"/patch.yaml\n"),
		errors: listedErr,
	}, {
		name:   "PatchJson6902Transformer path",
		files:  listed("transformers", "plugin.yaml", "PatchJson6902Transformer", "path: "+u+"/patch.json\ntarget:\n  kind: ConfigMap\n  name: app\n"),
		errors: listedErr,
	}, {
		name:   "ConfigMapGenerator files",
		files:  listed("generators", "plugin.yaml", "ConfigMapGenerator", "files:\n- token="+u+"/latest/token\n"),
		errors: listedErr,
	}, {
		name:   "ConfigMapGenerator envs",
		files:  listed("generators", "plugin.yaml", "ConfigMapGenerator", "envs:\n- "+u+"/env\n"),
		errors: listedErr,
	}, {
		name:   "SecretGenerator files",
		files:  listed("generators", "plugin.yaml", "SecretGenerator", "files:\n- "+u+"/token\n"),
		errors: listedErr,
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
