package clustertest

import (
	"context"
	"debug/buildinfo"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/clustertest/internal/controlplane"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

var cluster = New(Options{CRDDirs: []string{"testdata/crds"}})

func TestMain(m *testing.M) { cluster.Run(m) }

const manager = "gitopskit-test"

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

func apply(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, manifest string, opts metav1.ApplyOptions) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(manifest), &u.Object))
	opts.FieldManager = manager
	out, err := dyn.Resource(gvr).Namespace(ns).Apply(context.Background(), u.GetName(), u, opts)
	require.NoError(t, err)
	return out
}

func TestServerSideApply(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	dyn := dynamic.NewForConfigOrDie(cfg)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()

	version, err := cs.Discovery().ServerVersion()
	require.NoError(t, err)
	assert.Equal(t, KubernetesVersion, version.GitVersion, "ldflags set the real version, which Helm and discovery rely on")

	cm := apply(t, dyn, configMaps, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: blue}\n", metav1.ApplyOptions{})
	require.Len(t, cm.GetManagedFields(), 1)
	mf := cm.GetManagedFields()[0]
	assert.Equal(t, manager, mf.Manager)
	assert.Equal(t, metav1.ManagedFieldsOperationApply, mf.Operation)
	assert.Contains(t, mf.FieldsV1.GetRawString(), `"f:color"`)

	deploy := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`
	d := apply(t, dyn, deployments, ns, deploy, metav1.ApplyOptions{})
	// The server defaulted fields we did not declare; they are not ours.
	strategy, _, _ := unstructured.NestedString(d.Object, "spec", "strategy", "type")
	assert.Equal(t, "RollingUpdate", strategy)

	// A dry-run apply returns the result but writes nothing.
	dry := apply(t, dyn, deployments, ns, strings.Replace(deploy, "nginx:1.27", "nginx:1.28", 1), metav1.ApplyOptions{DryRun: []string{metav1.DryRunAll}})
	assert.Equal(t, "nginx:1.28", containerImage(t, dry))
	live, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "nginx:1.27", live.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, d.GetResourceVersion(), live.ResourceVersion)

	// Another manager changing a field we own is a conflict unless forced.
	other := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n"), &other.Object))
	_, err = dyn.Resource(deployments).Namespace(ns).Apply(ctx, "web", other, metav1.ApplyOptions{FieldManager: "someone-else"})
	require.True(t, apierrors.IsConflict(err), "got %v", err)
	_, err = dyn.Resource(deployments).Namespace(ns).Apply(ctx, "web", other, metav1.ApplyOptions{FieldManager: "someone-else", Force: true})
	require.NoError(t, err)
}

func containerImage(t *testing.T, d *unstructured.Unstructured) string {
	t.Helper()
	var dep appsv1.Deployment
	data, err := d.MarshalJSON()
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, &dep))
	return dep.Spec.Template.Spec.Containers[0].Image
}

// TestCustomResources uses the CRDs the shared cluster installed from testdata/crds
// at its start: they are served at once, without a wait in the test.
func TestCustomResources(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	dyn := dynamic.NewForConfigOrDie(cfg)
	ctx := context.Background()

	widgets := schema.GroupVersionResource{Group: "example.gitopskit.io", Version: "v1", Resource: "widgets"}
	w := apply(t, dyn, widgets, ns, "apiVersion: example.gitopskit.io/v1\nkind: Widget\nmetadata: {name: w}\nspec: {color: red}\n", metav1.ApplyOptions{})
	size, _, _ := unstructured.NestedInt64(w.Object, "spec", "size")
	assert.Equal(t, int64(1), size, "the structural schema's default was applied")
	assert.Equal(t, manager, w.GetManagedFields()[0].Manager)

	// Every served version of the JSON file's CRD is served.
	for _, v := range []string{"v1alpha1", "v1"} {
		gadgets := schema.GroupVersionResource{Group: "example.gitopskit.io", Version: v, Resource: "gadgets"}
		_, err := dyn.Resource(gadgets).List(ctx, metav1.ListOptions{})
		assert.NoError(t, err, v)
	}
	// The ConfigMap beside the CRD in widgets.yaml was skipped.
	_, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps("default").Get(ctx, "not-a-crd", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "got %v", err)
}

func TestKubeconfigWorksWithKubectl(t *testing.T) {
	kubeconfig := cluster.KubeconfigPath(t)
	dir, err := binDir("", []string{"kubectl"})
	require.NoError(t, err)
	out, err := exec.Command(filepath.Join(dir, "kubectl"), "--kubeconfig", kubeconfig, "get", "namespace", "default", "-o", "name").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "namespace/default\n", string(out))
}

func TestMissingBinaries(t *testing.T) {
	_, err := Start(context.Background(), Options{BinDir: t.TempDir()})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrBinariesMissing))
	// The command a user runs from their own module, which clustertest/setup's tests
	// run from a module outside this repository.
	assert.Contains(t, err.Error(), "`go run github.com/gitopskit/gitopskit/clustertest/setup`")
	assert.Contains(t, err.Error(), controlplane.SetupCommand)
}

// TestKubernetesVersion keeps the constant equal to what clustertest/setup builds.
func TestKubernetesVersion(t *testing.T) {
	v, err := controlplane.ModuleVersions()
	require.NoError(t, err)
	assert.Equal(t, KubernetesVersion, v.Kubernetes)
}

// TestBinariesShareKubernetes: kwok is built in the control plane's module, so every
// binary links the same client-go, compiled once (kwok's own go.mod asks for an
// older one).
func TestBinariesShareKubernetes(t *testing.T) {
	dir, err := binDir("", []string{"kube-apiserver", "kwok"})
	if err != nil {
		cluster.Config(t) // skips or fails the same way as for the shared cluster
	}
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"} {
		info, err := buildinfo.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		version := ""
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/client-go" {
				if dep.Replace != nil {
					dep = dep.Replace
				}
				version = dep.Version
			}
		}
		assert.Equal(t, "v0"+strings.TrimPrefix(KubernetesVersion, "v1"), version, name)
	}
}

func TestNamespaceName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	for _, name := range []string{"TestX", "TestA/sub_case:with spaces", strings.Repeat("TestLong", 20), "///"} {
		ns := namespaceName(name)
		assert.LessOrEqual(t, len(ns), 63, ns)
		assert.Regexp(t, valid, ns)
	}
	assert.NotEqual(t, namespaceName("TestX"), namespaceName("TestX"))
}

// TestFakeNodes starts the full flavour: controller manager, scheduler and kwok.
func TestFakeNodes(t *testing.T) {
	if _, err := binDir("", []string{"kube-controller-manager", "kube-scheduler", "kwok"}); err != nil {
		cluster.Config(t) // skips or fails the same way as for the shared cluster
	}
	start := time.Now()
	c, err := Start(context.Background(), Options{Nodes: 2, DisableQPSLimits: true})
	require.NoError(t, err)
	t.Cleanup(c.Stop)
	t.Logf("fake-node cluster started in %v", time.Since(start))
	limited := 0
	for _, p := range c.allProcs() {
		if p.name == "kube-controller-manager" || p.name == "kube-scheduler" {
			assert.Contains(t, p.cmd.Args, "--kube-api-qps=5000", p.name)
			limited++
		}
	}
	assert.Equal(t, 2, limited, "controller manager and scheduler")
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rollout"}}
	_, err = cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	require.NoError(t, err)
	replicas := int32(3)
	labels := map[string]string{"app": "web"}
	_, err = cs.AppsV1().Deployments("rollout").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments("rollout").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue && d.Status.AvailableReplicas == 3 {
				return true, nil
			}
		}
		return false, nil
	}))
	t.Logf("Deployment Available %v after start", time.Since(start))
	pods, err := cs.CoreV1().Pods("rollout").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	running := 0
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
			running++
		}
	}
	assert.Equal(t, 3, running)

	// With the controller manager, a namespace delete finishes.
	require.NoError(t, cs.CoreV1().Namespaces().Delete(ctx, "rollout", metav1.DeleteOptions{}))
	require.NoError(t, wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "rollout", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}))

	// Stop ends every process.
	procs := c.allProcs()
	c.Stop()
	for _, p := range procs {
		select {
		case <-p.done:
		default:
			t.Errorf("%s still running after Stop", p.name)
		}
	}
	c.Stop() // idempotent
}

func TestSweepOrphans(t *testing.T) {
	orphan, err := os.MkdirTemp("", dirPattern)
	require.NoError(t, err)
	// A pid far above pid_max's default belongs to no process.
	require.NoError(t, os.WriteFile(filepath.Join(orphan, "owner.pid"), []byte("999999999"), 0o600))
	mine, err := os.MkdirTemp("", dirPattern)
	require.NoError(t, err)
	defer os.RemoveAll(mine)
	require.NoError(t, markOwner(mine))

	sweepOrphans()
	assert.NoDirExists(t, orphan)
	assert.DirExists(t, mine)
}

// Each API server started on the cluster's etcd is a cluster of its own: what is
// created in one is not seen in the others. One stopped leaves the others serving.
func TestNewAPIServerIsAClusterOfItsOwn(t *testing.T) {
	ctx := context.Background()
	first := cluster.Config(t)
	second := cluster.NewAPIServer(t)
	third := cluster.NewAPIServer(t)
	client := func(cfg *rest.Config) kubernetes.Interface {
		return kubernetes.NewForConfigOrDie(cfg)
	}
	name := "apiserver-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := client(second.RESTConfig()).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for what, cfg := range map[string]*rest.Config{"first": first, "third": third.RESTConfig()} {
		if _, err := client(cfg).CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("%s cluster: namespace of the second: %v", what, err)
		}
	}
	second.Stop()
	if _, err := client(third.RESTConfig()).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("third after the second stopped: %v", err)
	}
	if _, err := client(second.RESTConfig()).CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
		t.Fatal("the stopped API server still answers")
	}
}
