package diff_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

const manager = "gitopskit"

// env is one test's view of the cluster: a namespace, clients, and a differ per
// engine sharing the same options.
type env struct {
	t       *testing.T
	ctx     context.Context
	ns      string
	dyn     dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	schemas *diff.ClusterSchemas
}

func newEnv(t *testing.T) *env {
	cfg := cluster.Config(t)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)
	return &env{
		t: t, ctx: context.Background(), ns: cluster.NewNamespace(t),
		dyn:     dynamic.NewForConfigOrDie(cfg),
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		schemas: diff.NewClusterSchemas(dc.OpenAPIV3()),
	}
}

// differs returns the server-side and offline differs with opts.
func (e *env) differs(opts diff.Options) (server, offline *diff.Differ) {
	opts.FieldManager = manager
	s, err := diff.New(diff.NewServer(e.dyn, e.mapper), opts)
	require.NoError(e.t, err)
	o, err := diff.New(diff.NewOffline(e.schemas, diff.OfflineOptions{Mapper: e.mapper, Client: e.dyn}), opts)
	require.NoError(e.t, err)
	return s, o
}

// corpus reads testdata/corpus.yaml for this namespace, keeping the kinds in keep
// (all when keep is empty).
func (e *env) corpus(keep ...string) []*unstructured.Unstructured {
	b, err := os.ReadFile("testdata/corpus.yaml")
	require.NoError(e.t, err)
	ms, err := object.Decode(strings.NewReader(strings.ReplaceAll(string(b), "NSNAME", e.ns)), "testdata/corpus.yaml")
	require.NoError(e.t, err)
	var out []*unstructured.Unstructured
	for _, m := range ms {
		u := m.Object
		if len(keep) > 0 && !contains(keep, u.GetKind()+"/"+u.GetName()) {
			continue
		}
		if u.GetKind() != "CustomResourceDefinition" {
			u.SetNamespace(e.ns)
		}
		out = append(out, u)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (e *env) resource(u *unstructured.Unstructured) dynamic.ResourceInterface {
	gvk := u.GroupVersionKind()
	var m *meta.RESTMapping
	err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		var err error
		m, err = e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			e.mapper.Reset()
			return false, nil
		}
		return true, nil
	})
	require.NoError(e.t, err, "mapping for %s", gvk)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return e.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	return e.dyn.Resource(m.Resource)
}

// apply server-side applies objs as our manager, CRDs first, and waits until
// custom kinds are served and their schemas published.
func (e *env) apply(objs ...*unstructured.Unstructured) {
	for _, crdFirst := range []bool{true, false} {
		for _, u := range objs {
			if (u.GetKind() == "CustomResourceDefinition") != crdFirst {
				continue
			}
			if !crdFirst && strings.HasSuffix(u.GroupVersionKind().Group, ".example.com") {
				e.waitSchema(u)
			}
			_, err := e.resource(u).Apply(e.ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: manager, Force: true})
			require.NoError(e.t, err, "apply %s", object.IDOf(u))
			if crdFirst {
				name := u.GetName()
				e.t.Cleanup(func() {
					_ = e.resource(u).Delete(context.Background(), name, metav1.DeleteOptions{})
				})
			}
		}
	}
}

// waitSchema waits until the cluster's OpenAPI v3 describes u's kind.
func (e *env) waitSchema(u *unstructured.Unstructured) {
	err := wait.PollUntilContextTimeout(e.ctx, 250*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := e.schemas.TypeConverter(ctx, u.GroupVersionKind())
		return err == nil, nil
	})
	require.NoError(e.t, err, "schema of %s never published", u.GroupVersionKind())
}

// live fetches the live copies of objs.
func (e *env) live(objs ...*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range objs {
		l, err := e.resource(u).Get(e.ctx, u.GetName(), metav1.GetOptions{})
		require.NoError(e.t, err, "get %s", object.IDOf(u))
		out = append(out, l)
	}
	return out
}

// get fetches one live object by kind and name from the corpus.
func (e *env) get(objs []*unstructured.Unstructured, kindName string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind()+"/"+u.GetName() == kindName {
			return e.live(u)[0]
		}
	}
	e.t.Fatalf("no %s in corpus", kindName)
	return nil
}

// find returns the desired object kindName.
func find(objs []*unstructured.Unstructured, kindName string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind()+"/"+u.GetName() == kindName {
			return u
		}
	}
	return nil
}
