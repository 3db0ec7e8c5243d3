package snippets

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/source"
	"github.com/gitopskit/gitopskit/source/git"
	"github.com/gitopskit/gitopskit/source/git/gittest"
	"github.com/gitopskit/gitopskit/update"
	"github.com/gitopskit/gitopskit/update/updatetest"
)

// snippet: update-registry
// ListTags lists the tags of an image repository ("registry.example.com/shop/app")
// on a private registry whose certificate is signed by the PEM CA ca.
func ListTags(ctx context.Context, repository, user, password string, ca []byte) ([]string, error) {
	reg := &update.Registry{
		// Username and Password: HTTP Basic, or the token flow when the registry
		// answers with a Bearer challenge. BearerToken: a token issued elsewhere.
		// The zero value: anonymous.
		Auth:     update.RegistryAuth{Username: user, Password: password},
		CABundle: ca,               // trusted on top of the system pool
		Timeout:  30 * time.Second, // per call, on top of ctx (default 1m)
	}
	return reg.Tags(ctx, repository) // errors name the repository, never a credential
}

// end snippet

func TestListTags(t *testing.T) {
	reg := updatetest.NewRegistry(t, updatetest.Options{Auth: updatetest.Basic, TLS: true}) // a private registry
	reg.Push(t, "shop/app", "1.0.0", "1.1.0", "latest")
	ctx := context.Background()
	repo := reg.Host + "/shop/app"

	tags, err := ListTags(ctx, repo, reg.Username, reg.Password, reg.CAPEM)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Sort(tags); !slices.Equal(tags, []string{"1.0.0", "1.1.0", "latest"}) {
		t.Errorf("tags = %v", tags)
	}
	_, err = ListTags(ctx, repo, reg.Username, "wrong-password", reg.CAPEM)
	if err == nil || !strings.Contains(err.Error(), repo) || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("a wrong password: error %v, want one naming the repository and not the password", err)
	}
	if _, err := ListTags(ctx, repo, reg.Username, reg.Password, nil); err == nil {
		t.Error("the registry's certificate was trusted without its CA")
	}
}

// snippet: update-policies
func Example_updatePolicies() {
	// Policies have the shape of Flux's ImagePolicy spec, so they can live in YAML.
	file := `
- name: shop:app          # the highest 1.x release
  image: ghcr.io/shop/app
  semver: {range: "^1"}
- name: shop:app-next     # the highest version, pre-releases included
  image: ghcr.io/shop/app
  semver: {range: ">=1.0.0", prereleases: true}
- name: shop:app-main     # the newest CI build of main, by its timestamp
  image: ghcr.io/shop/app
  numerical: {order: asc}
  filterTags: {pattern: '^main-[0-9a-f]+-(?P<ts>[0-9]+)$', extract: '$ts'}
- name: shop:app-nightly  # the last date, in byte order
  image: ghcr.io/shop/app
  alphabetical: {}
  filterTags: {pattern: '^nightly-\d{4}-\d{2}-\d{2}$'}
- name: shop:app-v3
  image: ghcr.io/shop/app
  semver: {range: "^3"}
`
	var policies []update.Policy
	if err := yaml.UnmarshalStrict([]byte(file), &policies); err != nil {
		fmt.Println(err)
		return
	}
	tags := []string{"1.9.0", "v1.10.2", "2.0.0-rc.1", "latest",
		"main-3f2a9c1-1717000000", "main-0b1d2e4-1717100000", "nightly-2025-05-30", "nightly-2025-06-02"}
	for _, p := range policies {
		tag, err := p.Latest(tags) // Latest validates p first (update.ErrInvalidPolicy)
		fmt.Printf("%-16s %q %v\n", p.Name, tag, err)
	}
	// Output:
	// shop:app         "v1.10.2" <nil>
	// shop:app-next    "2.0.0-rc.1" <nil>
	// shop:app-main    "main-0b1d2e4-1717100000" <nil>
	// shop:app-nightly "nightly-2025-06-02" <nil>
	// shop:app-v3      "" update: no tag matches the policy "shop:app-v3": 8 tags, none selected
}

// end snippet

// snippet: update-setter
func Example_updateSetter() {
	setter := &update.Setter{
		Images: []update.Image{{Policy: "shop:app", Name: "ghcr.io/shop/app", Tag: "1.10.2"}},
		// Fields: update.Markers | update.Containers | update.KustomizeImages (zero: all)
	}
	files := map[string]string{
		"chart/values.yaml": `app:
  image:
    repository: ghcr.io/shop/app # {"$imagepolicy": "shop:app:name"}
    tag: '1.9.0'                 # {"$imagepolicy": "shop:app:tag"}
`,
		"overlays/prod/kustomization.yaml": `resources: [../../base]
images:
  - name: ghcr.io/shop/app
    newTag: 1.9.0 # set by the updater
`,
	}
	for _, file := range []string{"chart/values.yaml", "overlays/prod/kustomization.yaml"} {
		out, edits, err := setter.Set(file, []byte(files[file]))
		if err != nil {
			fmt.Println(err) // update.ErrSet: not YAML, or a field that cannot be edited in place
			return
		}
		fmt.Print(string(out))
		for _, e := range edits {
			fmt.Printf("--- %s:%d: %s → %s (%s)\n", e.File, e.Line, e.Old, e.New, e.Policy)
		}
	}
	// Output:
	// app:
	//   image:
	//     repository: ghcr.io/shop/app # {"$imagepolicy": "shop:app:name"}
	//     tag: '1.10.2'                 # {"$imagepolicy": "shop:app:tag"}
	// --- chart/values.yaml:4: 1.9.0 → 1.10.2 (shop:app)
	// resources: [../../base]
	// images:
	//   - name: ghcr.io/shop/app
	//     newTag: 1.10.2 # set by the updater
	// --- overlays/prod/kustomization.yaml:4: 1.9.0 → 1.10.2 (shop:app)
}

// end snippet

// snippet: update-run
// UpdateImages writes the newest 1.x tag of image, pinned to its digest, into the
// YAML files under deploy/ of the branch main of the Git repository url, and
// pushes one commit listing the edits.
func UpdateImages(ctx context.Context, url, cacheDir, image string, reg *update.Registry) (*update.Result, error) {
	repo, err := git.New(git.Options{URL: url, Ref: git.Ref{Branch: "main"}, CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	return update.Run(ctx, update.Options{
		Policies: []update.Policy{{
			Name:   "shop:app",
			Image:  image,
			SemVer: &update.SemVer{Range: "^1"},
			Digest: true, // write image:tag@sha256:…, so a re-pushed tag is an update too
		}},
		Registry:    reg,
		Repository:  repo,
		Path:        "deploy",
		Author:      source.Signature{Name: "image-updater", Email: "image-updater@example.com"},
		MaxAttempts: 3, // when another writer moved the branch: fetch, edit and push again
	})
}

// end snippet

func TestUpdateImages(t *testing.T) {
	reg := updatetest.NewRegistry(t, updatetest.Options{Auth: updatetest.Basic, TLS: true}) // a private registry
	digests := reg.Push(t, "shop/app", "1.0.0", "1.2.0", "2.0.0")
	image := reg.Host + "/shop/app"
	r := gittest.NewRepo(t, "", "config.git")
	before := r.Commit("initial", map[string]string{
		"deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers:\n" +
			"        - name: app\n          image: " + image + ":1.0.0 # matched by its repository\n",
		"other/app.yaml": "image: " + image + ":1.0.0 # {\"$imagepolicy\": \"shop:app\"}\n",
	})
	r.Publish()
	srv := gittest.NewHTTPServer(t, r.Root, gittest.HTTPOptions{})
	url, cache := srv.URL+"/"+r.Name, t.TempDir()
	registry := &update.Registry{Auth: update.RegistryAuth{Username: reg.Username, Password: reg.Password}, CABundle: reg.CAPEM}
	ctx := context.Background()
	show := func(rev, file string) string { return r.Git("--git-dir", r.Bare(), "show", rev+":"+file) }

	res, err := UpdateImages(ctx, url, cache, image, registry)
	if err != nil {
		t.Fatal(err)
	}
	head := r.Git("--git-dir", r.Bare(), "rev-parse", "main")
	if !res.Pushed || res.Revision != "main@sha1:"+head || head == before || len(res.Edits) != 1 {
		t.Fatalf("result %+v, remote main %s", res, head)
	}
	want := image + ":1.2.0@" + digests["1.2.0"] + " # matched by its repository"
	if got := show("main", "deploy/app.yaml"); !strings.Contains(got, want) {
		t.Errorf("deploy/app.yaml:\n%s\nwant the line %q", got, want)
	}
	if show("main", "other/app.yaml") != show(before, "other/app.yaml") {
		t.Error("a file outside deploy/ changed")
	}
	msg := r.Git("--git-dir", r.Bare(), "log", "-1", "--format=%an%n%B", "main")
	if !strings.Contains(msg, "image-updater\nUpdate images\n\n- deploy/app.yaml:9: "+image+":1.0.0 → "+image+":1.2.0@"+digests["1.2.0"]+" (shop:app)") {
		t.Errorf("commit message:\n%s", msg)
	}

	again, err := UpdateImages(ctx, url, cache, image, registry)
	if err != nil || again.Pushed || len(again.Edits) != 0 || again.Revision != res.Revision {
		t.Errorf("a second run with nothing new: %+v, %v", again, err)
	}
}
