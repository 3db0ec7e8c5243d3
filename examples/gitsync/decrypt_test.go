package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/source/git/gittest"
)

// TestDecryptionKeys: with --decryption-keys naming a directory laid out as a
// mounted Flux decryption Secret, gitsync applies a SOPS-encrypted file
// decrypted; with a key that does not open it, the pass fails naming the file
// and applies nothing.
func TestDecryptionKeys(t *testing.T) {
	enc, err := os.ReadFile("../../render/sops/testdata/multi.yaml") // encrypted by the sops CLI
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("../../render/sops/testdata/test.agekey")
	if err != nil {
		t.Fatal(err)
	}
	e := newSyncEnv(t)
	e.repo.Commit("secrets", map[string]string{"deploy/secrets.yaml": string(enc)})
	e.repo.Publish()
	srv := gittest.NewHTTPServer(t, e.repo.Root, gittest.HTTPOptions{})
	args := []string{"--repo", srv.URL + "/app.git"}

	wrong, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	wrongDir := keyDir(t, map[string]string{"identity.agekey": wrong.String() + "\n"})
	code, out := e.run(append(args, "--decryption-keys", wrongDir)...)
	if code == 0 || !strings.Contains(out, "deploy/secrets.yaml") || !strings.Contains(out, "no key opens the data key") || strings.Contains(out, "hunter2") {
		t.Fatalf("with another key: exit %d, want a failure naming deploy/secrets.yaml:\n%s", code, out)
	}
	if _, err := e.cs.CoreV1().ConfigMaps(e.ns).Get(context.Background(), "app", metav1.GetOptions{}); err == nil {
		t.Fatal("a pass that could not decrypt applied the ConfigMap next to the file")
	}

	dir := keyDir(t, map[string]string{"identity.agekey": string(key), "README": "not a key"})
	if code, out := e.run(append(args, "--decryption-keys", dir)...); code != 0 || strings.Contains(out, "hunter2") {
		t.Fatalf("with the key: exit %d:\n%s", code, out)
	}
	s, err := e.cs.CoreV1().Secrets(e.ns).Get(context.Background(), "one", metav1.GetOptions{})
	if err != nil || string(s.Data["password"]) != "hunter2" {
		t.Fatalf("secret one: %v, data %v", err, s)
	}

	if code, out := e.run(append(args, "--decryption-keys", filepath.Join(dir, "README"))...); code == 0 || !strings.Contains(out, "no *.agekey or *.asc file") {
		t.Fatalf("a file that is not a key: exit %d:\n%s", code, out)
	}
}

func keyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
