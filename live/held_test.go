package live_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
)

// crowded fills a new namespace with members ConfigMaps a set declares and
// others it does not, 4 KiB of data each; the others carry a label, an
// annotation, and kubectl's last-applied copy of themselves.
func crowded(t *testing.T, cfg *rest.Config, members, others int) (ns string, ids []object.ID, data string) {
	t.Helper()
	ns, data = cluster.NewNamespace(t), strings.Repeat("x", 4096)
	cms := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(ns)
	for i := range others {
		name := fmt.Sprintf("other-%03d", i)
		_, err := cms.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels:      map[string]string{"team": "other"},
			Annotations: map[string]string{"note": name, "kubectl.kubernetes.io/last-applied-configuration": `{"data":{"data":"` + data + `"}}`}},
			Data: map[string]string{"data": data}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range members {
		name := fmt.Sprintf("member-%d", i)
		createConfigMap(t, cfg, ns, name, map[string]string{"data": data})
		ids = append(ids, object.ID{Kind: "ConfigMap", Namespace: ns, Name: name})
	}
	return ns, ids, data
}

// dataOf returns the data key "data" of a ConfigMap, "" when it has none.
func dataOf(u *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(u.Object, "data", "data")
	return s
}

var configMaps = live.Key{Resource: corev1.SchemeGroupVersion.WithResource("configmaps")}

// In a namespace of 5 members and 200 other ConfigMaps of 4 KiB each, the
// members are held whole and the others as their metadata, which List returns.
func TestOthersAreHeldAsMetadata(t *testing.T) {
	ctx := context.Background()
	cfg := cluster.Config(t)
	ns, ids, data := crowded(t, cfg, 5, 200)
	c := newCache(t, cfg)
	got, err := c.Objects(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if dataOf(got[id]) != data {
			t.Fatalf("%v is not whole: %v", id, got[id])
		}
	}
	s := c.Stats()
	t.Logf("stats %+v: %d bytes a member, %d bytes an other object", s, s.FullBytes/int64(max(s.Full, 1)), s.MetadataBytes/int64(max(s.Metadata, 1)))
	if s.Full != 5 || s.Metadata != 200 || s.Objects != s.Full+s.Metadata || s.Bytes != s.FullBytes+s.MetadataBytes {
		t.Fatalf("stats %+v, want 5 objects whole and 200 as metadata", s)
	}
	if perMember := s.FullBytes / int64(s.Full); perMember < 4096 {
		t.Fatalf("a member is held in %d bytes: not whole", perMember)
	}
	if perOther := s.MetadataBytes / int64(s.Metadata); perOther > 600 {
		t.Fatalf("an object no set wants costs %d bytes", perOther)
	}
	list, err := c.List(ctx, live.Key{Resource: configMaps.Resource, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	others := 0
	for _, m := range list {
		if m.Kind != "ConfigMap" || m.APIVersion != "v1" || m.UID == "" || m.ResourceVersion == "" || m.Namespace != ns {
			t.Fatalf("listed %+v", m)
		}
		if m.Labels["team"] == "other" {
			others++
			if m.Annotations["note"] != m.Name || m.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
				t.Fatalf("annotations of %s: %v", m.Name, m.Annotations)
			}
		}
	}
	if others != 200 || len(list) != 205 {
		t.Fatalf("listed %d objects, %d of them labelled, want 205 and 200", len(list), others)
	}
}

// An object first held as metadata and then asked for whole is read with one
// GET, never returned as the metadata held; the watch keeps it whole after that,
// and Release makes it metadata again.
func TestObjectWantedAfterItsKeyIsWatched(t *testing.T) {
	ctx := context.Background()
	cfg := cluster.Config(t)
	ns, _, data := crowded(t, cfg, 0, 3)
	var n atomic.Int64
	c := newCache(t, testtool.CountRequests(cfg, &n))
	if _, err := c.List(ctx, live.Key{Resource: configMaps.Resource, Namespace: ns}); err != nil {
		t.Fatal(err)
	}
	id := object.ID{Kind: "ConfigMap", Namespace: ns, Name: "other-001"}
	if _, _, err := c.KeyOf(id); err != nil { // discovery, counted apart
		t.Fatal(err)
	}
	if s := c.Stats(); s.Full != 0 {
		t.Fatalf("before Objects: %+v", s)
	}
	requests := func(what string, want int64, f func()) {
		t.Helper()
		before := n.Load()
		f()
		if got := n.Load() - before; got != want {
			t.Fatalf("%s sent %d requests, want %d", what, got, want)
		}
	}
	read := func() *unstructured.Unstructured {
		t.Helper()
		got, err := c.Objects(ctx, []object.ID{id})
		if err != nil {
			t.Fatal(err)
		}
		return got[id]
	}
	requests("the first read", 1, func() {
		if u := read(); dataOf(u) != data || len(u.GetManagedFields()) == 0 {
			t.Fatalf("the first read returned %v", u)
		}
	})
	requests("the second read", 0, func() {
		if u := read(); dataOf(u) != data {
			t.Fatalf("the second read returned %v", u)
		}
	})
	if s := c.Stats(); s.Full != 1 {
		t.Fatalf("after Objects: %+v", s)
	}
	// An edit comes whole through the watch: no request to read it.
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(ns).Patch(ctx, id.Name, types.MergePatchType,
		[]byte(`{"data":{"data":"edited"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	requests("reads after the edit", 0, func() {
		for deadline := time.Now().Add(10 * time.Second); dataOf(read()) != "edited"; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the edit never came whole")
			}
		}
	})
	c.Release([]object.ID{id})
	if s := c.Stats(); s.Full != 0 || s.Metadata < 3 {
		t.Fatalf("after Release: %+v", s)
	}
	requests("a read after Release", 1, func() {
		if u := read(); dataOf(u) != "edited" {
			t.Fatalf("a read after Release returned %v", u)
		}
	})
}

// An edit of the data of a member is reported, and of an object held as
// metadata too; of a Deployment held as metadata, a status update is not (its
// generation did not change) and a spec edit is.
func TestChangesOfObjectsHeldAsMetadata(t *testing.T) {
	ctx := context.Background()
	cfg, ns := cluster.Config(t), cluster.NewNamespace(t)
	kc := kubernetes.NewForConfigOrDie(cfg)
	apps := kc.AppsV1().Deployments(ns)
	if _, err := apps.Create(ctx, webDeployment(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createConfigMap(t, cfg, ns, "member", map[string]string{"k": "1"})
	createConfigMap(t, cfg, ns, "other", map[string]string{"k": "1"})
	c := newCache(t, cfg)
	changed := make(chan object.ID, 10)
	c.OnChange(func(id object.ID) { changed <- id })
	member := object.ID{Kind: "ConfigMap", Namespace: ns, Name: "member"}
	if _, err := c.Objects(ctx, []object.ID{member}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx, live.Key{Resource: appsv1.SchemeGroupVersion.WithResource("deployments"), Namespace: ns}); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Full != 1 || s.Metadata != 2 {
		t.Fatalf("stats %+v", s)
	}
	next := func(want object.ID) {
		t.Helper()
		select {
		case id := <-changed:
			if id != want {
				t.Fatalf("change of %v, want %v", id, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the change of %v was not reported", want)
		}
	}
	for _, name := range []string{"member", "other"} {
		if _, err := kc.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.MergePatchType, []byte(`{"data":{"k":"2"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		next(object.ID{Kind: "ConfigMap", Namespace: ns, Name: name})
	}
	statusThenSpec(t, cfg, ns)
	web := object.ID{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"}
	next(web) // the spec's, the status update before it unreported
	list, err := c.List(ctx, live.Key{Resource: appsv1.SchemeGroupVersion.WithResource("deployments"), Namespace: ns})
	if err != nil || len(list) != 1 || list[0].Generation != 2 {
		t.Fatalf("the change reported first was not the spec's: %v, %v", list, err)
	}
	select {
	case id := <-changed:
		t.Fatalf("a second change of %v was reported: the status update", id)
	case <-time.After(500 * time.Millisecond):
	}
}

// webDeployment is a Deployment of one replica, which no node runs.
func webDeployment() *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}},
	}
}

// statusThenSpec updates the status of the Deployment web of ns, then its
// spec.replicas to 2: two changes, of which only the second can be drift.
func statusThenSpec(t *testing.T, cfg *rest.Config, ns string) {
	t.Helper()
	ctx := context.Background()
	apps := kubernetes.NewForConfigOrDie(cfg).AppsV1().Deployments(ns)
	d, err := apps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Status.ObservedGeneration, d.Status.Replicas = d.Generation, 1
	if _, err := apps.UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := apps.Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
