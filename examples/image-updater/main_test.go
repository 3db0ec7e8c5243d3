package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/source/git/gittest"
	"github.com/gitopskit/gitopskit/update/updatetest"
)

func TestOnePass(t *testing.T) {
	reg := updatetest.NewRegistry(t, updatetest.Options{})
	reg.Push(t, "shop/app", "1.0.0", "1.1.0", "2.0.0")
	host := reg.Host
	repo := gittest.NewRepo(t, "", "config.git")
	repo.Commit("initial", map[string]string{
		"deploy/app.yaml": "image: " + host + "/shop/app:1.0.0 # {\"$imagepolicy\": \"shop:app\"}\n",
	})
	repo.Publish()
	srv := gittest.NewHTTPServer(t, repo.Root, gittest.HTTPOptions{Username: "bot", Password: "git-secret"})

	dir := t.TempDir()
	policies := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(policies, []byte("policies:\n- name: shop:app\n  image: "+host+"/shop/app\n  semver: {range: \"^1\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GIT_USERNAME": "bot", "GIT_PASSWORD": "git-secret"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-repo", srv.URL + "/config.git", "-path", "deploy", "-policies", policies, "-cache-dir", filepath.Join(dir, "cache"), "-once"},
		func(k string) string { return env[k] }, &out)
	if err != nil {
		t.Fatal(err)
	}
	got := repo.Git("--git-dir", repo.Bare(), "show", "main:deploy/app.yaml")
	if got != "image: "+host+"/shop/app:1.1.0 # {\"$imagepolicy\": \"shop:app\"}" {
		t.Fatalf("deploy/app.yaml = %q\nlog:\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), `"pushed"`) || strings.Contains(out.String(), "git-secret") {
		t.Fatalf("log:\n%s", out.String())
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("policies:\n- name: x\n  image: nginx\n  semvr: {range: '^1'}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no repo":         {"-once"},
		"unknown field":   {"-repo", "https://example.com/r.git", "-policies", bad, "-once"},
		"missing file":    {"-repo", "https://example.com/r.git", "-policies", filepath.Join(dir, "none.yaml"), "-once"},
		"negative period": {"-repo", "https://example.com/r.git", "-interval", "-1s"},
	} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
