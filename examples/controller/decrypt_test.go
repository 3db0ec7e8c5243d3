package main

import (
	"context"
	"os"
	"testing"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
)

// TestDecryption: a GitSync whose spec.decryption.secretRef names a Secret of
// age keys applies a SOPS-encrypted file decrypted; one whose Secret holds
// another key fails in the render, naming the file, and applies nothing; one
// whose Secret is missing says so.
func TestDecryption(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)
	startManager(t, cfg, options{}, ns)
	c := newClient(t, cfg)
	ctx := context.Background()

	enc, err := os.ReadFile("../../render/sops/testdata/multi.yaml") // encrypted by the sops CLI
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("../../render/sops/testdata/test.agekey")
	if err != nil {
		t.Fatal(err)
	}
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]string{"sops-keys": string(key), "other-keys": other.String()} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{"identity.agekey": []byte(k)}}
		if err := c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	_, url, rev := serveRepo(t, map[string]string{
		"good/secrets.yaml": string(enc), "good/a.yaml": configMapYAML("", "a"),
		"bad/secrets.yaml": string(enc), "bad/b.yaml": configMapYAML("", "b"),
	})
	gitSync := func(name, path, secret string) types.NamespacedName {
		gs := newGitSync(ns, name, url, path, true)
		gs.Spec.Decryption = &v1alpha1.Decryption{Provider: "sops", SecretRef: &v1alpha1.LocalObjectReference{Name: secret}}
		return create(t, c, gs)
	}
	good := gitSync("good", "good", "sops-keys")
	bad := gitSync("bad", "bad", "other-keys")
	missing := gitSync("missing", "good", "no-such-secret")

	waitStatus(t, c, good, "decrypted and applied", func(s v1alpha1.GitSyncStatus) bool {
		return readyIs(metav1.ConditionTrue, "Succeeded")(s) && s.LastAppliedRevision == rev
	})
	var one corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "one"}, &one); err != nil || string(one.Data["password"]) != "hunter2" {
		t.Fatalf("secret one: %v, %v", err, one.Data)
	}
	waitStatus(t, c, bad, "render failed", readyIs(metav1.ConditionFalse, "RenderFailed", "bad/secrets.yaml", "no key opens the data key"))
	waitStatus(t, c, missing, "secret missing", readyIs(metav1.ConditionFalse, "DecryptionFailed", "no-such-secret"))
	if exists(t, c, types.NamespacedName{Namespace: ns, Name: "b"}, &corev1.ConfigMap{}) {
		t.Error("ConfigMap b applied by a GitSync whose render failed")
	}
	var gs v1alpha1.GitSync
	if err := c.Get(ctx, bad, &gs); err != nil {
		t.Fatal(err)
	}
	t.Logf("bad: %s", condition(gs.Status, v1alpha1.ConditionReady).Message)
}
