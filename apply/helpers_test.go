package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) {
	defer nodes.Stop() // started by the hook tests only
	cluster.Run(m)
}

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	services    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	jobs        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	secretsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// env is one test's cluster access: a manager, a dynamic client and a namespace.
type env struct {
	t   *testing.T
	m   *apply.Manager
	dyn dynamic.Interface
	ns  string
}

func newEnv(t *testing.T, opts apply.Options) *env {
	t.Helper()
	cfg := cluster.Config(t)
	m, err := apply.NewForConfig(cfg, opts)
	require.NoError(t, err)
	return &env{t: t, m: m, dyn: dynamic.NewForConfigOrDie(cfg), ns: cluster.NewNamespace(t)}
}

// objects decodes manifests after replacing NS with the test's namespace.
func (e *env) objects(manifests string) []*unstructured.Unstructured {
	e.t.Helper()
	ms, err := object.Decode(strings.NewReader(strings.ReplaceAll(manifests, "NS", e.ns)), "test.yaml")
	require.NoError(e.t, err)
	return object.Objects(ms)
}

func (e *env) apply(objs []*unstructured.Unstructured, opts apply.ApplyOptions) *apply.Result {
	e.t.Helper()
	res, err := e.m.Apply(context.Background(), objs, opts)
	require.NoError(e.t, err)
	return res
}

func (e *env) get(gvr schema.GroupVersionResource, name string) (*unstructured.Unstructured, error) {
	return e.dyn.Resource(gvr).Namespace(e.ns).Get(context.Background(), name, metav1GetOptions)
}

func (e *env) applySet(name string, opts apply.ApplySetOptions) *apply.ApplySet {
	e.t.Helper()
	inv, err := e.m.ApplySet(object.ID{Kind: "Secret", Namespace: e.ns, Name: name}, opts)
	require.NoError(e.t, err)
	return inv
}

// actions maps object names to what happened to them.
func actions(res *apply.Result) map[string]apply.Action {
	out := map[string]apply.Action{}
	for _, ev := range res.Events {
		out[ev.ID.Name] = ev.Action
	}
	return out
}

func names(ids []object.ID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.Name)
	}
	sort.Strings(out)
	return out
}

// kubectl finds the kubectl built with the control plane binaries.
func kubectl(t *testing.T) string {
	t.Helper()
	dirs := []string{os.Getenv("GITOPSKIT_CONTROLPLANE_DIR")}
	if cache, err := os.UserCacheDir(); err == nil {
		m, _ := filepath.Glob(filepath.Join(cache, "gitopskit", "controlplane", "kube-"+clustertest.KubernetesVersion+"_*"))
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		p := filepath.Join(d, "kubectl")
		if fi, err := os.Stat(p); d != "" && err == nil && !fi.IsDir() {
			return p
		}
	}
	testtool.Missing(t, "kubectl is not in the control plane directory; build it with `go run ./clustertest/setup`")
	return ""
}

var (
	namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	crds       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// unique returns prefix with the random suffix of the test's namespace: a name no
// other test or run uses, for cluster-scoped objects.
func (e *env) unique(prefix string) string {
	return prefix + "-" + e.ns[len(e.ns)-6:]
}

// namespace returns a manifest of a Namespace named name, deleted after the test.
func (e *env) namespace(name string) string {
	e.t.Cleanup(func() { _ = e.dyn.Resource(namespaces).Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n"
}

// deleted reports whether the namespace or CRD name is gone or being deleted.
func (e *env) deleted(gvr schema.GroupVersionResource, name string) bool {
	e.t.Helper()
	u, err := e.dyn.Resource(gvr).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true
	}
	require.NoError(e.t, err)
	return u.GetDeletionTimestamp() != nil
}

// create creates an object from manifest as someone else (field manager
// "someone-else"), outside any apply.
func (e *env) create(gvr schema.GroupVersionResource, manifest string) {
	e.t.Helper()
	u := e.objects(manifest)[0]
	_, err := e.dyn.Resource(gvr).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{FieldManager: "someone-else"})
	require.NoError(e.t, err)
}

// event returns the event of id in res.
func event(t *testing.T, res *apply.Result, id object.ID) apply.Event {
	t.Helper()
	for _, ev := range res.Events {
		if ev.ID == id {
			return ev
		}
	}
	t.Fatalf("no event for %s in %+v", id, res.Events)
	return apply.Event{}
}

// crd returns a CustomResourceDefinition of kind (plural: lower case + "s") in a
// group of the test's own, with the given scope, deleted after the test, and the
// resource of its objects.
func (e *env) crd(kind, scope string) (string, schema.GroupVersionResource) {
	group, plural := e.ns+".example.com", strings.ToLower(kind)+"s"
	e.t.Cleanup(func() {
		_ = e.dyn.Resource(crds).Delete(context.Background(), plural+"."+group, metav1.DeleteOptions{})
	})
	return `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ` + plural + "." + group + `}
spec:
  group: ` + group + `
  scope: ` + scope + `
  names: {plural: ` + plural + `, kind: ` + kind + `}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`, schema.GroupVersionResource{Group: group, Version: "v1", Resource: plural}
}
