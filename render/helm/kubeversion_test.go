package helm_test

import (
	"context"
	"os"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/internal/rendertest"
)

// libraryKubeVersion is the Kubernetes version a release helm binary built with
// this module's k8s.io/client-go (v0.N.x) defaults to: v1.N.0.
func libraryKubeVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+k8s\.io/client-go v0\.(\d+)\.`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod requires no k8s.io/client-go")
	}
	return "v1." + string(m[1]) + ".0"
}

// TestWhatHelmAccepts renders a chart shaped like kube-prometheus-stack's
// troubles: it requires kubeVersion >=1.25.0-0 (Helm's library default is
// v1.20.0), writes a key twice, writes label values unquoted (a number, a null),
// has hooks named by generateName, and a document that is no object. It equals
// `helm template` of a release helm binary, whose default Kubernetes version is
// its client-go's.
func TestWhatHelmAccepts(t *testing.T) {
	kube := libraryKubeVersion(t)
	want := rendertest.CLI(t, "testdata/monitor", "helm", "template", "rel", "monitor", "--kube-version", kube)
	res, err := renderChart(t, artifact(t, "testdata/monitor"), "monitor", render.HelmOptions{ReleaseName: "rel"})
	if err != nil {
		t.Fatal(err)
	}
	got := object.Objects(res.Manifests)
	rendertest.Equal(t, want, got)
	if len(got) != 3 {
		t.Fatalf("%d objects, want the Deployment and two hook Jobs", len(got))
	}
	d := got[0]
	if v := d.GetAnnotations()["kube-version"]; v != kube {
		t.Errorf(".Capabilities.KubeVersion = %q, want %q", v, kube)
	}
	if n, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); n != 2 {
		t.Errorf("replicas = %d, want the last of the two, 2", n)
	}
	if l := d.GetLabels(); l["version"] != "1.10" || l["team"] != "" || len(l) != 3 {
		t.Errorf("labels = %v, want version 1.10 as written and team empty", l)
	}
	for i, m := range res.Manifests[1:] {
		if m.Object.GetName() != "" || m.Object.GetGenerateName() != "rel-migrate-" || m.Origin.File != "monitor/templates/hooks.yaml" {
			t.Errorf("hook %d: name %q, generateName %q, from %s", i, m.Object.GetName(), m.Object.GetGenerateName(), m.Origin)
		}
	}

	// An older cluster is refused, as Helm refuses it.
	_, err = renderChart(t, artifact(t, "testdata/monitor"), "monitor", render.HelmOptions{KubeVersion: "v1.24.0"})
	rendertest.WantError(t, err, nil, "chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.24.0")
}

// TestClusterKubeVersion: with a cluster, charts see its version (the local
// control plane's v1.37.2, not the library default's .0), unless the options set
// one; Pin names it, so render.Cache renders again after an upgrade.
func TestClusterKubeVersion(t *testing.T) {
	dc := discoveryClient(t)
	sv, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	r := helm.New(helm.Options{Cluster: dc})
	in := render.Input{FS: artifact(t, "testdata/monitor"), Dir: "monitor"}
	for _, tc := range []struct{ set, want string }{{"", sv.GitVersion}, {"v1.30.1", "v1.30.1"}} {
		opts := render.Options{Helm: render.HelmOptions{KubeVersion: tc.set}}
		res, err := r.Render(context.Background(), in, opts)
		if err != nil {
			t.Fatal(err)
		}
		if v := res.Manifests[0].Object.GetAnnotations()["kube-version"]; v != tc.want {
			t.Errorf("KubeVersion %q: .Capabilities.KubeVersion = %q, want %q", tc.set, v, tc.want)
		}
		pin, err := r.Pin(context.Background(), in, opts)
		if wantPin := map[bool]string{true: "kubeVersion " + sv.GitVersion + "\n"}[tc.set == ""]; err != nil || pin != wantPin {
			t.Errorf("KubeVersion %q: pin = %q, %v; want %q", tc.set, pin, err, wantPin)
		}
	}
	if sv.GitVersion == libraryKubeVersion(t) {
		t.Fatalf("the cluster's version %s is the default: the test proves nothing", sv.GitVersion)
	}
}
