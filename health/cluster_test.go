package health_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

var cluster = clustertest.New(clustertest.Options{Nodes: 2, KwokStages: []string{testtool.FailPodsStage}})

var record = flag.Bool("record", false, "record the objects the cluster tests see into testdata/recorded")

func TestMain(m *testing.M) { cluster.Run(m) }

// env is what a cluster test needs: a client, a namespace and a waiter.
type env struct {
	t      *testing.T
	ctx    context.Context
	cfg    *rest.Config
	dyn    dynamic.Interface
	ns     string
	waiter *health.Waiter
}

func newEnv(t *testing.T) *env {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	w, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, cfg: cfg, dyn: dynamic.NewForConfigOrDie(cfg), ns: ns, waiter: w}
}

func gvr(u *unstructured.Unstructured) schema.GroupVersionResource {
	gvk := u.GroupVersionKind()
	plural := strings.ToLower(gvk.Kind) + "s"
	if gvk.Kind == "Ingress" {
		plural = "ingresses"
	}
	return gvk.GroupVersion().WithResource(plural)
}

func (e *env) resource(u *unstructured.Unstructured) dynamic.ResourceInterface {
	if u.GetKind() == "CustomResourceDefinition" {
		return e.dyn.Resource(gvr(u))
	}
	return e.dyn.Resource(gvr(u)).Namespace(e.ns)
}

// apply applies a manifest in the test's namespace and returns its identity.
func (e *env) apply(manifest string) object.ID {
	e.t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(e.t, yaml.Unmarshal([]byte(manifest), &u.Object))
	if u.GetKind() != "CustomResourceDefinition" {
		u.SetNamespace(e.ns)
	}
	out, err := e.resource(u).Apply(e.ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "health-test", Force: true})
	require.NoError(e.t, err)
	return object.IDOf(out)
}

// applyIn applies a manifest in namespace ns.
func (e *env) applyIn(ns, manifest string) {
	e.t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(e.t, yaml.Unmarshal([]byte(manifest), &u.Object))
	u.SetNamespace(ns)
	_, err := e.dyn.Resource(gvr(u)).Namespace(ns).Apply(e.ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "health-test", Force: true})
	require.NoError(e.t, err)
}

func (e *env) get(id object.ID, apiVersion string) *unstructured.Unstructured {
	e.t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(id.Kind)
	u, err := e.resource(u).Get(e.ctx, id.Name, metav1.GetOptions{})
	require.NoError(e.t, err)
	return u
}

// get2 reads back the object a manifest declares.
func (e *env) get2(apiVersion, manifest string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		return nil, err
	}
	u.SetAPIVersion(apiVersion)
	return e.resource(u).Get(e.ctx, u.GetName(), metav1.GetOptions{})
}

// wait waits for ids and returns the result and the events it saw.
func (e *env) wait(opts health.WaitOptions, ids ...object.ID) (health.Result, []health.Event, error) {
	var mu sync.Mutex
	var events []health.Event
	progress := opts.Progress
	opts.Progress = func(ev health.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		e.t.Logf("%s: %s", ev.ID, ev.Status)
		if progress != nil {
			progress(ev)
		}
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	res, err := e.waiter.Wait(e.ctx, ids, opts)
	return res, events, err
}

// saw reports whether the events hold a status with code c whose message contains msg.
func saw(events []health.Event, c health.Code, msg string) bool {
	for _, ev := range events {
		if ev.Status.Code == c && strings.Contains(ev.Status.Message, msg) {
			return true
		}
	}
	return false
}

// recordObject writes obj with the status Assess gives it into testdata/recorded
// when the tests run with -record, for the table test TestRecorded. The recording
// keeps what the rules read and drops what changes on every run.
func recordObject(t *testing.T, name string, obj *unstructured.Unstructured) {
	t.Helper()
	if !*record {
		return
	}
	obj = obj.DeepCopy()
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	obj.SetNamespace("recorded")
	s := health.Assess(obj)
	data, err := yaml.Marshal(recorded{Want: s, Object: obj.Object})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join("testdata", "recorded"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("testdata", "recorded", name+".yaml"), data, 0o644))
}

// recorded is a file of testdata/recorded: a real object and its expected status.
type recorded struct {
	Want   health.Status  `json:"want"`
	Object map[string]any `json:"object"`
}
