package helm4

import (
	"fmt"
	"reflect"
	"testing"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"

	"github.com/gitopskit/gitopskit/render/internal/capture"
)

// TestSortManifestsAsHelm: sorting file by file on all processors gives what
// Helm's releaseutil.SortManifests gives at once: the same manifests and hooks
// in the same order, the same log lines in the same order, the same error.
func TestSortManifestsAsHelm(t *testing.T) {
	doc := func(kind, name, annotations string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata:\n  name: %s\n  annotations: {%s}\n", kind, name, annotations)
	}
	files := map[string]string{
		"c/templates/a.yaml":     doc("Zebra", "z", "") + "---\n" + doc("Service", "s", "") + "---\n" + doc("Deployment", "d", ""),
		"c/templates/b.yaml":     doc("Alpha", "a", "") + "---\n---\n" + doc("Service", "s2", "") + "\n---\n# a comment\n",
		"c/templates/hooks.yaml": doc("Job", "j", "helm.sh/hook: pre-install") + "---\n" + doc("Pod", "t", "helm.sh/hook: test") + "---\n" + doc("Pod", "u", "helm.sh/hook: bogus"),
		"c/templates/more.yaml":  doc("ConfigMap", "cm", "helm.sh/hook: post-install, test-success") + "---\n" + doc("Zebra", "z2", "") + "---\n" + doc("Namespace", "n", "x: y"),
		"c/templates/_part.tpl":  doc("Secret", "partial", ""),
		"c/templates/z.yaml":     doc("Deployment", "d0", "helm.sh/hook: weird") + "---\n" + doc("Namespace", "n0", ""),
	}
	bad := map[string]string{"c/templates/x.yaml": "a: b: c\n", "c/templates/y.yaml": "a: [\n", "c/templates/a.yaml": doc("Pod", "p", "helm.sh/hook: bogus")}
	for name, fixture := range map[string]map[string]string{"documents": files, "errors": bad} {
		t.Run(name, func(t *testing.T) {
			var want sorted
			want.logged = capture.Log(func() {
				want.hooks, want.manifests, want.err = releaseutil.SortManifests(fixture, nil, releaseutil.InstallOrder)
			})
			got := sortManifests(fixture)
			if fmt.Sprint(got.err) != fmt.Sprint(want.err) || !reflect.DeepEqual(got.logged, want.logged) {
				t.Fatalf("error %v, logged %q; want %v, %q", got.err, got.logged, want.err, want.logged)
			}
			if want.err != nil {
				return
			}
			if len(want.manifests) < 8 || len(want.hooks) < 3 {
				t.Fatalf("Helm sorted %d manifests and %d hooks: the fixture says nothing", len(want.manifests), len(want.hooks))
			}
			if !reflect.DeepEqual(got.manifests, want.manifests) || !reflect.DeepEqual(got.hooks, want.hooks) {
				t.Errorf("got\n%v\n%v\nwant\n%v\n%v", got.manifests, got.hooks, want.manifests, want.hooks)
			}
		})
	}
}
