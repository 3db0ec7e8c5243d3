package health_test

import (
	"testing"

	"github.com/gitopskit/gitopskit/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestConventions covers the cases issue #14 found assessed wrong, each compared
// with what the kind's controller means by the status it writes.
func TestConventions(t *testing.T) {
	cases := []struct {
		name, object string
		want         health.Code
		message      string // a substring of the message
	}{
		// The kubelet restarts a container that exits under restartPolicy Always; between
		// two restarts its state is terminated (or running again, not yet ready) with the
		// failure in lastState: a crash loop before the back-off shows CrashLoopBackOff.
		{"pod crash loop terminated between restarts", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app}]},
			status: {phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: app, ready: false, restartCount: 3,
			state: {terminated: {exitCode: 1, reason: Error}}, lastState: {terminated: {exitCode: 1, reason: Error}}}]}}`,
			health.Degraded, "container app is crash-looping: exit code 1: Error (restart count 3)"},
		{"pod crash loop running again not ready", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Always, containers: [{name: app}]},
			status: {phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: app, ready: false, restartCount: 1,
			state: {running: {startedAt: "2026-01-01T00:00:00Z"}}, lastState: {terminated: {exitCode: 1, reason: Error}}}]}}`,
			health.Degraded, "container app is crash-looping: exit code 1: Error (restart count 1)"},
		{"pod restarted once and ready again", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app}]},
			status: {phase: Running, conditions: [{type: Ready, status: "True"}], containerStatuses: [{name: app, ready: true, restartCount: 1,
			state: {running: {}}, lastState: {terminated: {exitCode: 137, reason: OOMKilled}}}]}}`,
			health.Healthy, "Pod ready"},
		{"pod first exit before any restart", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: app}]},
			status: {phase: Running, containerStatuses: [{name: app, ready: false, restartCount: 0, state: {terminated: {exitCode: 1, reason: Error}}}]}}`,
			health.Progressing, "0 of 1 containers ready"},

		// The Job controller sets the Suspended condition once it has removed the
		// active pods; until then the Job is still changing.
		{"job suspend requested pods still active", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {suspend: true},
			status: {active: 2, conditions: [{type: Suspended, status: "False"}]}}`,
			health.Progressing, "Job is being suspended: 2 active"},
		{"job suspend requested no condition yet", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {suspend: true}}`,
			health.Progressing, "Job is being suspended"},
		{"job suspended", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {suspend: true},
			status: {conditions: [{type: Suspended, status: "True", reason: JobSuspended}]}}`,
			health.Suspended, "Job is suspended"},
		{"job resumed condition not yet cleared", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {suspend: false},
			status: {conditions: [{type: Suspended, status: "True", reason: JobSuspended}]}}`,
			health.Progressing, "Job is resuming"},

		// A StatefulSet scales down one pod at a time, from the highest ordinal.
		{"statefulset scaling down", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s, generation: 2}, spec: {replicas: 3},
			status: {observedGeneration: 2, replicas: 5, readyReplicas: 5, availableReplicas: 5, currentReplicas: 5, updatedReplicas: 5,
			currentRevision: r1, updateRevision: r1}}`,
			health.Progressing, "waiting for scale-down: 5 replicas, 3 wanted"},

		// ReplicaFailure: the ReplicaSet controller cannot create a pod (quota, an
		// admission webhook) and retries; the Deployment controller mirrors the
		// condition. One rule for both, never a bare reason.
		{"replicaset replica failure", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, replicas: 0, conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate, message: "pods \"r-x\" is forbidden: exceeded quota"}]}}`,
			health.Progressing, `cannot create pods: FailedCreate: pods "r-x" is forbidden: exceeded quota; 0 of 2 replicas available`},
		{"deployment replica failure", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, replicas: 0, conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate, message: "pods \"d-x\" is forbidden: exceeded quota"}]}}`,
			health.Progressing, `cannot create pods: FailedCreate: pods "d-x" is forbidden: exceeded quota; waiting for rollout: 0 of 2 replicas updated`},
		{"replicaset replica failure without reason", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, conditions: [{type: ReplicaFailure, status: "True"}]}}`,
			health.Progressing, "cannot create pods (ReplicaFailure); 0 of 2 replicas available"},

		// The phase convention, for custom resources without conditions.
		{"phase Running", `{apiVersion: argoproj.io/v1alpha1, kind: Thing, metadata: {name: w}, status: {phase: Running}}`,
			health.Progressing, "phase Running"},
		{"phase Pending", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Pending}}`,
			health.Progressing, "phase Pending"},
		{"phase Failed with message", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Failed, message: "boom"}}`,
			health.Degraded, "phase Failed: boom"},
		{"phase Error", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Error}}`,
			health.Degraded, "phase Error"},
		{"phase Succeeded", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Succeeded}}`,
			health.Healthy, "phase Succeeded"},
		{"phase Bound", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Bound}}`,
			health.Healthy, "phase Bound"},
		{"phase lower case", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: running}}`,
			health.Progressing, "phase running"},
		{"phase unrecognised", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Sleeping}}`,
			health.Healthy, ""},
		{"conditions win over phase", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: w}, status: {phase: Failed,
			conditions: [{type: Ready, status: "True", message: "recovered"}]}}`,
			health.Healthy, "recovered"},

		// Deletion wins over every rule.
		{"deployment being deleted", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, deletionTimestamp: "2026-01-01T00:00:00Z"},
			status: {conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]}}`,
			health.Progressing, "Deployment is being deleted"},

		// No generation: nothing to compare observedGeneration with.
		{"no generation, observed -1", `{apiVersion: example.com/v1, kind: Thing, metadata: {name: t}, status: {observedGeneration: -1,
			conditions: [{type: Ready, status: "True", message: "ok"}]}}`,
			health.Healthy, "ok"},
		{"no generation on a built-in workload", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: r}, spec: {replicas: 1},
			status: {observedGeneration: 0, availableReplicas: 1}}`,
			health.Healthy, "1 of 1 replicas available"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := health.Assess(loadObject(t, []byte(c.object)))
			assert.Equal(t, c.want, s.Code, s.Message)
			assert.Contains(t, s.Message, c.message)
			assert.NotContains(t, s.Message, "generation 0")
		})
	}
}

// TestDeletionWinsOverCustomRules: an object being deleted is Progressing whatever
// a custom rule would say of its last status.
func TestDeletionWinsOverCustomRules(t *testing.T) {
	a, err := health.NewAssessor(health.Options{
		Rules: map[schema.GroupKind]health.Rule{{Group: "example.com", Kind: "Gadget"}: func(*unstructured.Unstructured) (health.Status, bool) {
			return health.Status{Code: health.Healthy, Message: "by Go"}, true
		}},
		CELRules: []health.CELRule{{Name: "always-healthy", Group: "example.com", Kind: "Widget", Expression: `{"code": "Healthy"}`}},
	})
	require.NoError(t, err)
	for _, kind := range []string{"Gadget", "Widget"} {
		obj := loadObject(t, []byte(`{apiVersion: example.com/v1, kind: `+kind+`, metadata: {name: g, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: [example.com/cleanup]}}`))
		assert.Equal(t, health.Status{Code: health.Progressing, Message: kind + " is being deleted"}, a.Assess(obj))
		obj.SetDeletionTimestamp(nil)
		assert.Equal(t, health.Healthy, a.Assess(obj).Code)
	}
}
