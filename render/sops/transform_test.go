package sops_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/sops"
)

// A Decryptor is a post-render transform of package reconcile.
var _ reconcile.Transformer = (*sops.Decryptor)(nil)

// TestTransform decrypts rendered objects as a post-render transform: an object
// with SOPS metadata that a renderer changed (a namespace and a label added,
// its fields reordered), and a Secret whose data entry is an encrypted file.
func TestTransform(t *testing.T) {
	key, err := os.ReadFile("testdata/test.agekey")
	if err != nil {
		t.Fatal(err)
	}
	d := mustNew(t, sops.Options{Keys: sops.Keys{Age: [][]byte{key}}})
	res := &render.Result{}
	for _, name := range []string{"testdata/secret.yaml", "testdata/multi.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := object.Decode(bytes.NewReader(b), name)
		if err != nil {
			t.Fatal(err)
		}
		res.Manifests = append(res.Manifests, ms...)
	}
	res.Manifests[0].Object.SetLabels(map[string]string{"added": "by kustomize"})
	env, err := os.ReadFile("testdata/app.env")
	if err != nil {
		t.Fatal(err)
	}
	gen := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "gen"},
		"data": map[string]any{"app.env": base64.StdEncoding.EncodeToString(env), "plain": "YQ==", "sops_config": "YQ=="},
	}}
	res.Manifests = append(res.Manifests, object.Manifest{Object: gen, Origin: object.Origin{File: "kustomization.yaml"}})
	if err := d.Transform(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	if got := res.Manifests[0].Object.Object["stringData"].(map[string]any)["password"]; got != "hunter2" {
		t.Errorf("password = %v", got)
	}
	for _, m := range res.Manifests {
		if _, ok := m.Object.Object["sops"]; ok {
			t.Errorf("%s keeps its metadata", m.Object.GetName())
		}
	}
	if got := res.Manifests[2].Object.GetAPIVersion(); got != "v1" {
		t.Errorf("apiVersion of a wholly encrypted document = %q", got)
	}
	b, _ := base64.StdEncoding.DecodeString(gen.Object["data"].(map[string]any)["app.env"].(string))
	if !strings.Contains(string(b), "DB_PASSWORD=hunter2\n") {
		t.Errorf("app.env = %q", b)
	}

	// Another key: the error names the object and its file, and holds no value.
	other := mustNew(t, sops.Options{Keys: sops.Keys{Age: [][]byte{[]byte(sharedKeys(t).ageIdentity)}}})
	b, _ = os.ReadFile("testdata/secret.yaml")
	ms, _ := object.Decode(bytes.NewReader(b), "secret.yaml")
	err = other.Transform(context.Background(), &render.Result{Manifests: ms})
	if !errors.Is(err, sops.ErrNoKey) || !strings.HasPrefix(err.Error(), "secret/db -n shop (secret.yaml:1): ") {
		t.Errorf("got %v, want ErrNoKey naming secret/db -n shop (secret.yaml:1)", err)
	}

	// A value moved to another key does not authenticate.
	ms, _ = object.Decode(bytes.NewReader(b), "secret.yaml")
	sd := ms[0].Object.Object["stringData"].(map[string]any)
	sd["port"] = sd["password"]
	if err := d.Transform(context.Background(), &render.Result{Manifests: ms}); !errors.Is(err, sops.ErrMAC) {
		t.Errorf("moved value: got %v, want ErrMAC", err)
	}
}
