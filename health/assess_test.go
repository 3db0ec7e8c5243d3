package health_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// loadObject decodes YAML the way a client decodes JSON from the API server, with
// integers as int64.
func loadObject(t testing.TB, data []byte) *unstructured.Unstructured {
	t.Helper()
	js, err := yaml.YAMLToJSON(data)
	require.NoError(t, err)
	u := &unstructured.Unstructured{}
	require.NoError(t, u.UnmarshalJSON(js))
	return u
}

// TestRecorded assesses the objects the cluster tests recorded (go test -record).
func TestRecorded(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "recorded", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	kinds := map[string]bool{}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var r struct {
				Want   health.Status `json:"want"`
				Object any           `json:"object"`
			}
			require.NoError(t, yaml.Unmarshal(data, &r))
			obj, err := yaml.Marshal(r.Object)
			require.NoError(t, err)
			u := loadObject(t, obj)
			kinds[u.GetKind()] = true
			assert.Equal(t, r.Want, health.Assess(u))
		})
	}
	for _, k := range []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Job", "CronJob",
		"PersistentVolumeClaim", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget",
		"CustomResourceDefinition", "APIService", "Namespace"} {
		assert.True(t, kinds[k], "no recording of a %s", k)
	}
}

// TestAssess covers states the test cluster cannot produce (kwok never pulls images
// or crashes containers); the objects follow what the controllers and the kubelet
// write.
func TestAssess(t *testing.T) {
	cases := []struct {
		name, object string
		want         health.Status
	}{
		{"pod crash loop", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app}]},
			status: {phase: Running, containerStatuses: [{name: app, ready: false, restartCount: 5,
			state: {waiting: {reason: CrashLoopBackOff, message: "back-off 2m40s restarting failed container"}}}]}}`,
			health.Status{Code: health.Degraded, Message: "container app: CrashLoopBackOff: back-off 2m40s restarting failed container"}},
		{"pod image pull", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Pending,
			containerStatuses: [{name: app, state: {waiting: {reason: ImagePullBackOff}}}]}}`,
			health.Status{Code: health.Degraded, Message: "container app: ImagePullBackOff"}},
		{"pod init container running", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Pending,
			initContainerStatuses: [{name: migrate, state: {running: {}}}, {name: seed, state: {waiting: {reason: PodInitializing}}}]}}`,
			health.Status{Code: health.Progressing, Message: "waiting for init container migrate (1 of 2)"}},
		{"pod init container crash", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Pending,
			initContainerStatuses: [{name: migrate, state: {waiting: {reason: CrashLoopBackOff}}}]}}`,
			health.Status{Code: health.Degraded, Message: "init container migrate: CrashLoopBackOff"}},
		{"pod restartPolicy Never exit 1", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Never}, status: {phase: Running,
			containerStatuses: [{name: a, state: {terminated: {exitCode: 1, reason: Error}}}]}}`,
			health.Status{Code: health.Degraded, Message: "container a failed: exit code 1: Error"}},
		{"pod OnFailure running", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: OnFailure},
			status: {phase: Running, conditions: [{type: Ready, status: "True"}]}}`,
			health.Status{Code: health.Progressing, Message: "Pod running, not yet completed"}},
		{"pod phase Unknown", `{apiVersion: v1, kind: Pod, metadata: {name: p}, status: {phase: Unknown}}`,
			health.Status{Code: health.Unknown, Message: "Pod state unknown"}},
		{"statefulset OnDelete pending update", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 2},
			spec: {replicas: 2, updateStrategy: {type: OnDelete}}, status: {observedGeneration: 2, readyReplicas: 2, updatedReplicas: 1}}`,
			health.Status{Code: health.Healthy, Message: "2 of 2 replicas ready; 1 of 2 updated (OnDelete: pods update when deleted)"}},
		{"daemonset misscheduled", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: d, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 1}}`,
			health.Status{Code: health.Progressing, Message: "1 pods running on nodes they should not"}},
		{"replicaset quota", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate, message: "exceeded quota"}]}}`,
			health.Status{Code: health.Progressing, Message: "cannot create pods: FailedCreate: exceeded quota; 0 of 2 replicas available"}},
		{"pvc lost", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Lost}}`,
			health.Status{Code: health.Degraded, Message: "claim lost its volume"}},
		{"pvc bound", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Bound}}`,
			health.Status{Code: health.Healthy, Message: "claim is bound"}},
		{"service load balancer ready", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer},
			status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}}`,
			health.Status{Code: health.Healthy, Message: "load balancer ready"}},
		{"ingress with address", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i},
			status: {loadBalancer: {ingress: [{hostname: lb.example.com}]}}}`,
			health.Status{Code: health.Healthy, Message: "address assigned"}},
		{"hpa v1 annotation", `{apiVersion: autoscaling/v1, kind: HorizontalPodAutoscaler, metadata: {name: h, annotations:
			{autoscaling.alpha.kubernetes.io/conditions: '[{"type":"AbleToScale","status":"False","reason":"FailedGetScale","message":"no such deployment"}]'}}}`,
			health.Status{Code: health.Degraded, Message: "cannot scale: FailedGetScale: no such deployment"}},
		{"hpa scaling disabled", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h},
			status: {conditions: [{type: AbleToScale, status: "True"}, {type: ScalingActive, status: "False", reason: ScalingDisabled, message: "scaling is disabled since the replica count of the target is zero"}]}}`,
			health.Status{Code: health.Suspended, Message: "scaling disabled: scaling is disabled since the replica count of the target is zero"}},
		{"crd names conflict", `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: a.b},
			status: {conditions: [{type: NamesAccepted, status: "False", reason: MultipleNames, message: "plural is taken"}, {type: Established, status: "False"}]}}`,
			health.Status{Code: health.Degraded, Message: "names not accepted: MultipleNames: plural is taken"}},
		{"apiservice missing endpoints", `{apiVersion: apiregistration.k8s.io/v1, kind: APIService, metadata: {name: v1beta1.metrics.k8s.io},
			status: {conditions: [{type: Available, status: "False", reason: MissingEndpoints, message: "endpoints for service/metrics-server have no addresses"}]}}`,
			health.Status{Code: health.Progressing, Message: "not available: MissingEndpoints: endpoints for service/metrics-server have no addresses"}},
		{"namespace stuck terminating", `{apiVersion: v1, kind: Namespace, metadata: {name: n, deletionTimestamp: "2026-01-01T00:00:00Z"},
			status: {phase: Terminating, conditions: [{type: NamespaceDeletionDiscoveryFailure, status: "True", reason: DiscoveryFailed, message: "metrics.k8s.io/v1beta1 unavailable"}]}}`,
			health.Status{Code: health.Degraded, Message: "Namespace is stuck terminating: DiscoveryFailed: metrics.k8s.io/v1beta1 unavailable"}},
		{"namespace terminating", `{apiVersion: v1, kind: Namespace, metadata: {name: n, deletionTimestamp: "2026-01-01T00:00:00Z"}, status: {phase: Terminating}}`,
			health.Status{Code: health.Progressing, Message: "Namespace is terminating"}},
		{"any object being deleted", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: [x]}}`,
			health.Status{Code: health.Progressing, Message: "ConfigMap is being deleted"}},
		{"job failing", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: FailureTarget, status: "True", reason: DeadlineExceeded}]}}`,
			health.Status{Code: health.Degraded, Message: "Job failing: DeadlineExceeded"}},
		// Generic objects: the kstatus conventions.
		{"generic no status", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`, health.Status{Code: health.Healthy}},
		{"generic generation lag", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: t, generation: 3}, status: {observedGeneration: 2}}`,
			health.Status{Code: health.Progressing, Message: "waiting for the controller to observe generation 3 (observed 2)"}},
		{"generic stalled", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: t, generation: 1}, status: {observedGeneration: 1,
			conditions: [{type: Ready, status: "False"}, {type: Stalled, status: "True", reason: InvalidSpec, message: "bad url"}]}}`,
			health.Status{Code: health.Degraded, Message: "stalled: InvalidSpec: bad url"}},
		{"generic reconciling", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: t}, status: {conditions: [{type: Reconciling, status: "True", reason: Progressing}]}}`,
			health.Status{Code: health.Progressing, Message: "reconciling: Progressing"}},
		{"generic ready", `{apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository, metadata: {name: t}, status: {conditions: [{type: Ready, status: "True", message: "stored artifact"}]}}`,
			health.Status{Code: health.Healthy, Message: "stored artifact"}},
		{"generic not ready", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: t}, status: {conditions: [{type: Ready, status: "False", reason: Waiting}]}}`,
			health.Status{Code: health.Progressing, Message: "not ready: Waiting"}},
		{"generic suspended", `{apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, metadata: {name: k}, spec: {suspend: true}}`,
			health.Status{Code: health.Suspended, Message: "suspended"}},
		{"wrong shapes", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: "x"}, spec: [1], status: {observedGeneration: 1, conditions: "no", replicas: {a: 1}}}`,
			health.Status{Code: health.Progressing, Message: "waiting for rollout: 0 of 1 replicas updated"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, health.Assess(loadObject(t, []byte(c.object))))
		})
	}
	assert.Equal(t, health.Unknown, health.Assess(nil).Code)
	assert.Equal(t, health.Unknown, health.Assess(&unstructured.Unstructured{}).Code)
}

func TestWorstAndAggregate(t *testing.T) {
	assert.Equal(t, health.Healthy, health.Worst())
	assert.Equal(t, health.Degraded, health.Worst(health.Healthy, health.Missing, health.Degraded, health.Progressing))
	assert.Equal(t, health.Missing, health.Worst(health.Unknown, health.Missing, health.Suspended))
	assert.Equal(t, health.Progressing, health.Worst(health.Suspended, health.Progressing))
	assert.True(t, health.Suspended.Done())
	assert.False(t, health.Code("Weird").Valid())
}

func FuzzAssess(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "recorded", "*.yaml"))
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "rules", "*", "*", "*.yaml"))
	for _, name := range append(files, fixtures...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
	}
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","status":{"initContainerStatuses":[null,1,{"state":[]}]}}`))
	f.Add([]byte(`{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"annotations":{"autoscaling.alpha.kubernetes.io/conditions":"[1,"}}}`))
	assessor, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{
		Name: "fuzz", Kind: "Pod", Expression: `{"code": object.status.phase == "Running" ? "Healthy" : "Nope", "message": string(object.metadata.name)}`,
	}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			// Also objects the strict decoder refuses: any JSON object.
			var m map[string]any
			if yaml.Unmarshal(data, &m) != nil || m == nil {
				return
			}
			u.Object = m
		}
		for _, s := range []health.Status{health.Assess(u), assessor.Assess(u)} {
			if !s.Code.Valid() {
				t.Fatalf("invalid code %q", s.Code)
			}
		}
		// The "object" form inside a recording or a fixture: assess that too.
		if obj, ok := u.Object["object"].(map[string]any); ok {
			if s := health.Assess(&unstructured.Unstructured{Object: obj}); !s.Code.Valid() {
				t.Fatalf("invalid code %q", s.Code)
			}
		}
	})
}
