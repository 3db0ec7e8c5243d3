package sops_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/isolate"
	"github.com/gitopskit/gitopskit/render/kustomize"
	"github.com/gitopskit/gitopskit/render/sops"
	"github.com/gitopskit/gitopskit/source"
)

func TestMain(m *testing.M) {
	if isolate.Child() {
		return
	}
	os.Exit(m.Run())
}

// kustomizeApp writes a kustomization to dir/app whose resources, patch and
// secretGenerator sources are encrypted with the sops CLI for k's age key, and
// returns what `sops -d` makes of each encrypted file.
func kustomizeApp(t *testing.T, cli sopsCLI, dir string) map[string][]byte {
	t.Helper()
	age := []string{"--age", cli.keys.ageRecipient}
	plain := map[string]string{}
	for _, fk := range fileKinds {
		plain[fk.name] = fk.plain
	}
	files := map[string][]string{
		"app/secret.yaml": append(age, "--encrypted-regex", "^(data|stringData)$"),
		"app/multi.yaml":  age,
		"app/patch.yaml":  age,
		"app/app.env":     age,
		"app/config.json": age,
		"app/key.bin":     age,
		"app/values.yaml": append(age, "--unencrypted-suffix", "_unencrypted"),
	}
	plain["patch.yaml"] = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: one\nstringData:\n  patched: p@ss:word\n"
	want := map[string][]byte{}
	for name, args := range files {
		enc := cli.encrypt(t, dir, name, []byte(plain[filepath.Base(name)]), args...)
		out, err := cli.decrypt(t, t.TempDir(), filepath.Base(name), enc)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = out
	}
	writeFile(t, dir, "app/plain.txt", "not a secret\n")
	writeFile(t, dir, "app/kustomization.yaml", `resources:
- secret.yaml
- multi.yaml
patches:
- path: patch.yaml
secretGenerator:
- name: gen
  envs:
  - app.env
  files:
  - config.json
  - key.bin
  - values.yaml
  - plain.txt
configMapGenerator:
- name: settings
  literals:
  - mode=prod
`)
	return want
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKustomizeSecretGenerator renders a kustomization whose resources, patch
// and secretGenerator sources are encrypted, in process and in an isolated
// child, and checks every Secret holds what `sops -d` makes of its source.
func TestKustomizeSecretGenerator(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	dir := t.TempDir()
	want := kustomizeApp(t, cli, dir)
	d := k.decryptor(t, true, false)
	for name, r := range map[string]render.Renderer{
		"in process": kustomize.New(kustomize.Options{}),
		"isolated":   isolate.New(isolate.Options{Spec: isolate.Spec{Kind: render.KindKustomize, Kustomize: &isolate.KustomizeSpec{}}}),
	} {
		t.Run(name, func(t *testing.T) {
			res, err := sops.NewRenderer(r, d).Render(context.Background(), render.Input{FS: source.DirFS(dir), Dir: "app"}, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			objs := map[string]*unstructured.Unstructured{}
			for _, m := range res.Manifests {
				objs[m.Object.GetName()] = m.Object
				if _, ok := m.Object.Object["sops"]; ok {
					t.Errorf("%s keeps its sops metadata", m.Object.GetName())
				}
			}
			if got := objs["db"].Object["stringData"].(map[string]any)["password"]; got != "hunter2" {
				t.Errorf("db password = %v", got)
			}
			if got := objs["one"].Object["stringData"].(map[string]any); got["patched"] != "p@ss:word" || got["password"] != "hunter2" {
				t.Errorf("one (patched) stringData = %v", got)
			}
			if got := objs["three"].Object["stringData"].(map[string]any)["phrase"]; got != "correct horse" {
				t.Errorf("three phrase = %v", got)
			}
			var gen *unstructured.Unstructured
			for n, o := range objs {
				if strings.HasPrefix(n, "gen-") {
					gen = o
				}
			}
			if gen == nil {
				t.Fatal("no generated Secret")
			}
			data := gen.Object["data"].(map[string]any)
			for key, file := range map[string]string{"config.json": "app/config.json", "key.bin": "app/key.bin", "values.yaml": "app/values.yaml"} {
				b, _ := base64.StdEncoding.DecodeString(data[key].(string))
				sameContent(t, key, b, want[file])
			}
			b, _ := base64.StdEncoding.DecodeString(data["plain.txt"].(string))
			if string(b) != "not a secret\n" {
				t.Errorf("plain.txt = %q", b)
			}
			for key, v := range map[string]string{"DB_USER": "admin", "DB_PASSWORD": "hunter2", "MULTI": `line1\nline2`, "TOKEN_unencrypted": "visible"} {
				b, _ := base64.StdEncoding.DecodeString(data[key].(string))
				if string(b) != v {
					t.Errorf("env %s = %q, want %q", key, b, v)
				}
			}
			if len(data) != 8 {
				t.Errorf("generated Secret has keys %v", data)
			}
		})
	}
}

// TestOtherAppsSecrets checks that a file no key opens fails the render that
// uses it, naming it, and not one that does not use it, even when the whole
// artifact is read (an isolated render streams it to its child).
func TestOtherAppsSecrets(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	other := newKeys(t)
	dir := t.TempDir()
	cli.encrypt(t, dir, "mine/secret.yaml", []byte(fileKinds[0].plain), "--age", k.ageRecipient)
	cli.encrypt(t, dir, "theirs/secret.yaml", []byte(fileKinds[0].plain), "--age", other.ageRecipient)
	cli.encrypt(t, dir, "gen/app.env", []byte(fileKinds[4].plain), "--age", other.ageRecipient)
	writeFile(t, dir, "gen/kustomization.yaml", "secretGenerator:\n- name: gen\n  envs:\n  - app.env\n")
	d := k.decryptor(t, true, false)
	for name, r := range map[string]render.Renderer{
		"in process": render.Auto{Kustomize: kustomize.New(kustomize.Options{})},
		"isolated":   isolate.New(isolate.Options{Spec: isolate.Spec{Kustomize: &isolate.KustomizeSpec{}}}),
	} {
		t.Run(name, func(t *testing.T) {
			sr := sops.NewRenderer(r, d)
			in := render.Input{FS: source.DirFS(dir)}
			in.Dir = "mine"
			if _, err := sr.Render(context.Background(), in, render.Options{}); err != nil {
				t.Fatalf("mine: %v", err)
			}
			for dir, file := range map[string]string{"theirs": "theirs/secret.yaml", "gen": "gen/app.env"} {
				in.Dir = dir
				_, err := sr.Render(context.Background(), in, render.Options{})
				if !errors.Is(err, sops.ErrNoKey) || !strings.Contains(err.Error(), file) {
					t.Errorf("%s: got %v, want an error naming %s wrapping ErrNoKey", dir, err, file)
				}
				t.Log(err)
			}
		})
	}
}

// TestPlainAndCache renders a plain directory through a render.Cache, and checks
// that the pin, part of the cache key, is the key set's.
func TestPlainAndCache(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	dir := t.TempDir()
	cli.encrypt(t, dir, "secret.yaml", []byte(fileKinds[0].plain), "--pgp", k.pgpFP, "--age", k.ageRecipient)
	writeFile(t, dir, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n")
	in := render.Input{FS: source.DirFS(dir), Digest: "sha1:abc"}
	var pins []string
	for _, d := range []*sops.Decryptor{k.decryptor(t, true, false), k.decryptor(t, true, false), k.decryptor(t, false, true)} {
		pin, err := sops.NewRenderer(render.Plain{}, d).Pin(context.Background(), in, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		pins = append(pins, pin)
	}
	if pins[0] != pins[1] || pins[0] == pins[2] {
		t.Fatalf("pins of the same keys must be equal, of other keys different: %q", pins)
	}
	c := render.NewCache(sops.NewRenderer(render.Plain{}, k.decryptor(t, true, false)), 0)
	res, err := c.Render(context.Background(), in, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Manifests[1].Object.Object["stringData"].(map[string]any)["password"]; got != "hunter2" {
		t.Errorf("password = %v", got)
	}
	if res.Manifests[1].Origin != (object.Origin{File: "secret.yaml", Line: 1}) {
		t.Errorf("origin = %v", res.Manifests[1].Origin)
	}
	noKeys := sops.NewRenderer(render.Plain{}, mustNew(t, sops.Options{}))
	if _, err := noKeys.Render(context.Background(), in, render.Options{}); !errors.Is(err, sops.ErrNoKey) || !strings.Contains(err.Error(), "secret.yaml") {
		t.Errorf("without keys: got %v, want ErrNoKey naming secret.yaml", err)
	}
}

// TestConfigMapGeneratorRefused: a configMapGenerator fed by an encrypted file
// would put it decrypted in a ConfigMap; the render fails, naming both.
func TestConfigMapGeneratorRefused(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	dir := t.TempDir()
	cli.encrypt(t, dir, "app/config.json", []byte(fileKinds[3].plain), "--age", k.ageRecipient)
	writeFile(t, dir, "app/kustomization.yaml", "configMapGenerator:\n- name: settings\n  files:\n  - config.json\n")
	r := sops.NewRenderer(kustomize.New(kustomize.Options{}), k.decryptor(t, true, false))
	_, err := r.Render(context.Background(), render.Input{FS: source.DirFS(dir), Dir: "app"}, render.Options{})
	if err == nil || !strings.Contains(err.Error(), "configmap/settings-") || !strings.Contains(err.Error(), "app/config.json") {
		t.Fatalf("got %v, want an error naming the ConfigMap and app/config.json", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the error holds a secret: %v", err)
	}
	t.Log(err)
}

// TestTamperedFileFailsTheRender: a file whose MAC does not verify but whose
// values each still authenticate (an unencrypted field changed) fails the
// render with ErrMAC: the object it leaves undecrypted is not decrypted after
// the render, where the MAC cannot be checked.
func TestTamperedFileFailsTheRender(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	dir := t.TempDir()
	enc := cli.encrypt(t, dir, "secret.yaml", []byte(fileKinds[0].plain), "--age", k.ageRecipient, "--encrypted-regex", "^(data|stringData)$")
	writeFile(t, dir, "secret.yaml", strings.Replace(string(enc), "name: db", "name: attacker", 1))
	r := sops.NewRenderer(render.Plain{}, k.decryptor(t, true, false))
	_, err := r.Render(context.Background(), render.Input{FS: source.DirFS(dir)}, render.Options{})
	if !errors.Is(err, sops.ErrMAC) || !strings.HasPrefix(err.Error(), "secret.yaml: ") {
		t.Fatalf("got %v, want ErrMAC naming secret.yaml", err)
	}
}

// TestAmbiguousStrings: decrypted strings that YAML 1.1 reads as other types
// ("y", "on", "0777") stay strings, and do not fail the decoder's checks.
func TestAmbiguousStrings(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	dir := t.TempDir()
	values := []string{"y", "on", "No", "0777", "1e3", "~", "null", "", "multi\nline\n", "  spaced  ", "tab\there", "é ünï"}
	plain := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n"
	for i, v := range values {
		plain += "  k" + string(rune('a'+i)) + ": " + strconv.Quote(v) + "\n"
	}
	cli.encrypt(t, dir, "secret.yaml", []byte(plain), "--age", k.ageRecipient)
	res, err := sops.NewRenderer(render.Plain{}, k.decryptor(t, true, false)).Render(context.Background(), render.Input{FS: source.DirFS(dir)}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sd := res.Manifests[0].Object.Object["stringData"].(map[string]any)
	for i, v := range values {
		if got := sd["k"+string(rune('a'+i))]; got != v {
			t.Errorf("k%c = %#v, want %q", 'a'+i, got, v)
		}
	}
}

// TestLargeFileNotDecryptedLater: a SOPS file larger than MaxBytes is handed to
// the renderer unread, and the object it makes fails the render instead of
// being decrypted without its MAC checked.
func TestLargeFileNotDecryptedLater(t *testing.T) {
	enc, err := os.ReadFile("testdata/secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("testdata/test.agekey")
	if err != nil {
		t.Fatal(err)
	}
	d := mustNew(t, sops.Options{Keys: sops.Keys{Age: [][]byte{key}}, MaxBytes: int64(len(enc)) - 1})
	fsys := fstest.MapFS{"secret.yaml": {Data: enc}, "cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n")}}
	_, err = sops.NewRenderer(render.Plain{}, d).Render(context.Background(), render.Input{FS: fsys}, render.Options{})
	if !errors.Is(err, sops.ErrInvalid) || !strings.Contains(err.Error(), "secret/db -n shop (secret.yaml:1)") {
		t.Fatalf("got %v, want ErrInvalid naming secret/db -n shop (secret.yaml:1)", err)
	}
}

// TestNotSOPS: files that mention sops without being SOPS files are read as
// they are: a chart template, values with a "sops" key, a Flux Kustomization
// with decryption, a dotenv and a JSON file that say sops.
func TestNotSOPS(t *testing.T) {
	files := map[string]string{
		"templates/ks.yaml": "{{- if .Values.sops.enabled }}\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  decryption:\n    provider: sops\n{{- end }}\n",
		"values.yaml":       "sops:\n  enabled: true\n  age: []\n",
		"flux.yaml":         "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\nspec:\n  decryption: {provider: sops}\n",
		"app.env":           "TOOL=sops\nsops_version=1\n",
		"x.json":            `{"sops": {"age": []}, "tool": "sops"}`,
		"notes.txt":         "sops: is a tool {{",
	}
	d := mustNew(t, sops.Options{})
	for name, content := range files {
		if sops.IsEncrypted(name, []byte(content)) {
			t.Errorf("%s: IsEncrypted", name)
		}
		out, err := d.Decrypt(context.Background(), name, []byte(content))
		if err != nil || string(out) != content {
			t.Errorf("%s: Decrypt = %q, %v; want it unchanged", name, out, err)
		}
	}
}

// TestHelmValues: a chart's values files are read decrypted, and one no key
// opens fails the render, naming it.
func TestHelmValues(t *testing.T) {
	k := sharedKeys(t)
	cli := requireSOPS(t, k)
	other := newKeys(t)
	dir := t.TempDir()
	writeFile(t, dir, "chart/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n")
	writeFile(t, dir, "chart/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: app}\nstringData:\n  password: {{ .Values.password | quote }}\n")
	cli.encrypt(t, dir, "chart/values.yaml", []byte("password: hunter2\nreplicas: 1\n"), "--age", k.ageRecipient, "--encrypted-regex", "^password$")
	cli.encrypt(t, dir, "prod.yaml", []byte("password: correct horse\n"), "--age", k.ageRecipient)
	cli.encrypt(t, dir, "theirs.yaml", []byte("password: s3cr3t-token\n"), "--age", other.ageRecipient)
	r := sops.NewRenderer(helm.New(helm.Options{}), k.decryptor(t, true, false))
	in := render.Input{FS: source.DirFS(dir), Dir: "chart"}
	for files, want := range map[string]string{"": "hunter2", "prod.yaml": "correct horse"} {
		var opts render.Options
		if files != "" {
			opts.Helm.ValuesFiles = []string{files}
		}
		res, err := r.Render(context.Background(), in, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Manifests[0].Object.Object["stringData"].(map[string]any)["password"]; got != want {
			t.Errorf("values %q: password = %v, want %q", files, got, want)
		}
	}
	_, err := r.Render(context.Background(), in, render.Options{Helm: render.HelmOptions{ValuesFiles: []string{"theirs.yaml"}}})
	if !errors.Is(err, sops.ErrNoKey) || !strings.HasPrefix(err.Error(), "theirs.yaml: ") {
		t.Fatalf("got %v, want ErrNoKey naming theirs.yaml", err)
	}
}
