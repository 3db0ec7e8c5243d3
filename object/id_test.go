package object

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestIDRoundTrip(t *testing.T) {
	for _, s := range []string{"apps/Deployment/default/web", "/ConfigMap/default/a", "/Namespace//prod", "rbac.authorization.k8s.io/ClusterRole//admin"} {
		id, err := ParseID(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, id.String())
	}
	for _, bad := range []string{"", "Deployment/web", "apps/Deployment/default/web/x", "apps//default/web", "apps/Deployment/default/"} {
		_, err := ParseID(bad)
		assert.Error(t, err, bad)
	}
}

func TestIDOfIgnoresVersion(t *testing.T) {
	a := &unstructured.Unstructured{}
	a.SetAPIVersion("apps/v1")
	a.SetKind("Deployment")
	a.SetName("web")
	a.SetNamespace("ns")
	b := a.DeepCopy()
	b.SetAPIVersion("apps/v1beta2")
	assert.Equal(t, IDOf(a), IDOf(b))
	assert.Equal(t, "apps", IDOf(a).GroupKind().Group)
}

func TestSetAndSort(t *testing.T) {
	web := ID{Group: "apps", Kind: "Deployment", Namespace: "a", Name: "web"}
	cm := ID{Kind: "ConfigMap", Namespace: "a", Name: "cfg"}
	ns := ID{Kind: "Namespace", Name: "a"}
	s := NewSet(web, cm)
	s.Add(ns)
	assert.True(t, s.Has(cm))
	assert.Equal(t, []ID{cm, ns, web}, s.Sorted())
	assert.Equal(t, []ID{ns}, s.Difference(NewSet(web, cm)))
	assert.Empty(t, NewSet(web).Difference(s))

	objs := []*unstructured.Unstructured{obj("apps/v1", "Deployment", "a", "web"), obj("v1", "ConfigMap", "a", "z"), obj("v1", "ConfigMap", "a", "b")}
	Sort(objs)
	var got []string
	for _, o := range objs {
		got = append(got, IDOf(o).String())
	}
	assert.True(t, slices.Equal([]string{"/ConfigMap/a/b", "/ConfigMap/a/z", "apps/Deployment/a/web"}, got), got)
}

func obj(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func TestIDKubectlString(t *testing.T) {
	for id, want := range map[ID]string{
		{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"}:                      "deployment.apps/web -n shop",
		{Kind: "Namespace", Name: "guestbook"}:                                                   "namespace/guestbook",
		{Kind: "ConfigMap", Namespace: "x", Name: "a"}:                                           "configmap/a -n x",
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: "a.example.com"}: "customresourcedefinition.apiextensions.k8s.io/a.example.com",
	} {
		if got := id.KubectlString(); got != want {
			t.Errorf("%s.KubectlString() = %q, want %q", id, got, want)
		}
	}
}
