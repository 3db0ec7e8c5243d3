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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

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
	m, err := apply.New(cfg, opts)
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
	testtool.Missing(t, "kubectl is not in the control plane directory; build it with `make controlplane`")
	return ""
}
