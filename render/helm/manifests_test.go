package helm

import (
	"fmt"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

func obj(kind, name string, extra ...string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata:\n  name: %s\n%s", kind, name, strings.Join(extra, ""))
}

// sortFixture is rendered templates that exercise what Helm's sorting does:
// known and unknown kinds, several documents a file, separators Helm's split
// treats oddly, hooks (test, unknown, weighted), Lists, annotations, case
// variants of the keys Helm reads, comments-only documents and partials.
var sortFixture = map[string]string{
	"c/templates/a.yaml": obj("Deployment", "d1") + "---\n" + obj("Service", "s1") + "\n---\n# only a comment\n---\n" + obj("Zebra", "z1"),
	"c/templates/b.yaml": "\n\n---\n" + obj("ConfigMap", "cm1") + "---\n---\n" + obj("Alpha", "a1") + "\n---foo: bar\n",
	"c/templates/hooks.yaml": obj("Job", "pre", "  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"5\"\n") + "---\n" +
		obj("Pod", "t", "  annotations:\n    helm.sh/hook: test\n") + "---\n" +
		obj("Pod", "u", "  annotations:\n    helm.sh/hook: pre-install,bogus\n") + "---\n" +
		obj("ServiceAccount", "post", "  annotations:\n    helm.sh/hook: Post-Install, test-success\n"),
	"c/templates/list.yaml":  "apiVersion: v1\nkind: ConfigMapList\nitems:\n  - " + strings.ReplaceAll(obj("ConfigMap", "in-list"), "\n", "\n    ") + "\n",
	"c/templates/list1.yaml": "apiVersion: v1\nkind: List\nitems:\n  - " + strings.ReplaceAll(obj("Secret", "one"), "\n", "\n    ") + "\n",
	"c/templates/ann.yaml":   obj("Secret", "annotated", "  annotations:\n    note: x\n") + "---\n" + obj("Role", "r", "  annotations: {}\n"),
	"c/templates/case.yaml":  obj("Deployment", "d2") + "Kind: Ingress\n---\n" + obj("Service", "s2", "  Annotations: {helm.sh/hook: pre-install}\n"),
	"c/templates/tags.yaml":  "apiVersion: v1\nkind: !!str Namespace\nmetadata: {name: \"n\\x31\"}\n",
	"c/templates/_part.tpl":  obj("Namespace", "partial"),
	"c/templates/blank.yaml": " \n\n",
	"c/templates/ann2.yaml":  obj("Service", "s3", "  annotations: {a: null, b: true, helm.sh/hook-weight: 3, Helm.sh/hook: test}\n") + "---\n" + obj("Job", "j", "  annotations: {helm.sh/hook: 1}\n"),
	"c/templates/num.yaml":   obj("Secret", "n", "  annotations:\n    n: 1\n") + "---\napiVersion: 5\nkind: 7\nmetadata: {name: s}\n",
	"c/templates/z.yaml":     obj("Deployment", "d0") + "---\n" + obj("Namespace", "ns"),
}

// TestSortManifestsAsHelm checks that sortManifests, with and without decoding
// ahead, puts the same documents in the same order as Helm's
// releaseutil.SortManifests, leaves out the same hooks with the same log line,
// and fails on the same documents with the same errors.
func TestSortManifestsAsHelm(t *testing.T) {
	var (
		wantHooks     []*release.Hook
		wantManifests []releaseutil.Manifest
		err           error
	)
	wantLogged := capture.Log(func() {
		wantHooks, wantManifests, err = releaseutil.SortManifests(sortFixture, nil, releaseutil.InstallOrder)
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range wantManifests {
		want = append(want, m.Name+"|"+m.Content)
	}
	for _, h := range wantHooks {
		test := false
		for _, e := range h.Events {
			test = test || e == release.HookTest
		}
		want = append(want, fmt.Sprintf("%s|%s|test=%t", h.Path, h.Manifest, test))
	}
	for _, dec := range []*object.Decoder{nil, {Lenient: true}} {
		var manifests, hooks []manifest
		logged := capture.Log(func() { manifests, hooks, err = sortManifests(sortFixture, dec) })
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range manifests {
			got = append(got, m.path+"|"+m.content)
		}
		for _, h := range hooks {
			got = append(got, fmt.Sprintf("%s|%s|test=%t", h.path, h.content, h.test))
		}
		if strings.Join(got, "\n====\n") != strings.Join(want, "\n====\n") {
			t.Errorf("decoding ahead %t: got\n%s\n\nHelm:\n%s", dec != nil, strings.Join(got, "\n====\n"), strings.Join(want, "\n====\n"))
		}
		if strings.Join(logged, "\n") != strings.Join(wantLogged, "\n") || len(logged) != 2 {
			t.Errorf("decoding ahead %t: logged %q, Helm %q", dec != nil, logged, wantLogged)
		}
	}

	for _, bad := range []string{
		"kind: [a\n",
		obj("Secret", "s", "  annotations:\n    m: {a: b}\n"),
		"- a\n- b\n",
	} {
		files := map[string]string{"c/templates/a.yaml": obj("ConfigMap", "fine"), "c/templates/b.yaml": obj("Service", "ok") + "---\n" + bad}
		_, _, herr := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
		for _, dec := range []*object.Decoder{nil, {Lenient: true}} {
			_, _, err := sortManifests(files, dec)
			if herr == nil || err == nil || err.Error() != herr.Error() {
				t.Errorf("%q, decoding ahead %t: error %v, Helm's %v", bad, dec != nil, err, herr)
			}
		}
	}
}

// FuzzSplitManifests checks that splitManifests splits as Helm's regular
// expression does.
func FuzzSplitManifests(f *testing.F) {
	for _, content := range sortFixture {
		f.Add(content)
	}
	for _, s := range []string{"", "---", "---\n---\n", "a\n---\n---\nb", "a \t\n \n---  \n\n c\n---x", "\v---\n\v", "---a\n---", "a\r\n---\r\nb", "a\n--- \n---\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		want := releaseutil.SplitManifests(content)
		got := splitManifests(content)
		if len(got) != len(want) {
			t.Fatalf("%q: %d documents %q, Helm %d %q", content, len(got), got, len(want), want)
		}
		for i, d := range got {
			if w := want[fmt.Sprintf("manifest-%d", i)]; d != w {
				t.Fatalf("%q: document %d is %q, Helm's %q", content, i, d, w)
			}
		}
	})
}
