package health_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deploymentManifest(name, image string, extra string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
  replicas: 3
  selector: {matchLabels: {app: ` + name + `}}
` + extra + `
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      containers: [{name: app, image: "` + image + `"}]
`
}

func TestDeploymentRollout(t *testing.T) {
	e := newEnv(t)
	id := e.apply(deploymentManifest("web", "nginx:1.27", ""))
	res, events, err := e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[id].Code)
	assert.Equal(t, "3 of 3 replicas available", res.Objects[id].Message)
	assert.Equal(t, health.Healthy, res.Status.Code)
	assert.True(t, saw(events, health.Progressing, "waiting for rollout"), "the rollout was seen progressing: %v", events)
	recordObject(t, "deployment-available", e.get(id, "apps/v1"))

	// An image update: right after the write the controller has not observed it.
	e.apply(deploymentManifest("web", "nginx:1.28", ""))
	live := e.get(id, "apps/v1")
	s := health.Assess(live)
	assert.Equal(t, health.Progressing, s.Code, s.Message)
	recordObject(t, "deployment-generation-not-observed", live)
	res, events, err = e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[id].Code)
	for _, ev := range events {
		if ev.Status.Code == health.Progressing {
			assert.Contains(t, ev.Status.Message, "waiting for ")
		}
	}
}

func TestDeploymentProgressDeadline(t *testing.T) {
	e := newEnv(t)
	// No node has this label: the pods stay Pending and the deadline passes.
	id := e.apply(strings.Replace(deploymentManifest("stuck", "nginx:1.27", "  progressDeadlineSeconds: 5"),
		"containers:", "nodeSelector: {gitopskit.io/none: none}\n      containers:", 1))
	start := time.Now()
	res, events, err := e.wait(health.WaitOptions{FailFast: true}, id)
	require.ErrorIs(t, err, health.ErrDegraded)
	assert.Contains(t, err.Error(), "deployment.apps/stuck -n "+e.ns)
	assert.Contains(t, err.Error(), "progress deadline")
	assert.Equal(t, health.Degraded, res.Status.Code)
	assert.True(t, saw(events, health.Progressing, "0 of 3 updated replicas available"), "%v", events)
	t.Logf("Degraded after %v", time.Since(start))
	recordObject(t, "deployment-progress-deadline", e.get(id, "apps/v1"))
}

func TestDeploymentPaused(t *testing.T) {
	e := newEnv(t)
	id := e.apply(deploymentManifest("paused", "nginx:1.27", "  paused: true"))
	res, _, err := e.wait(health.WaitOptions{}, id)
	require.NoError(t, err, "a suspended object ends the wait")
	assert.Equal(t, health.Status{Code: health.Suspended, Message: "Deployment is paused"}, res.Objects[id])
	recordObject(t, "deployment-paused", e.get(id, "apps/v1"))
}

func TestStatefulSetRollout(t *testing.T) {
	e := newEnv(t)
	manifest := func(image, partition string) string {
		return `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  podManagementPolicy: Parallel
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: ` + partition + `}}
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "` + image + `"}]}
`
	}
	id := e.apply(manifest("postgres:16", "0"))
	res, events, err := e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, "3 of 3 replicas ready", res.Objects[id].Message)
	assert.True(t, saw(events, health.Progressing, ""), "%v", events)
	recordObject(t, "statefulset-ready", e.get(id, "apps/v1"))

	// A partitioned rollout updates only the ordinals at or above the partition.
	e.apply(manifest("postgres:17", "2"))
	res, _, err = e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[id].Code)
	assert.Contains(t, res.Objects[id].Message, "partitioned rollout complete: 1 of 3 replicas updated")
	recordObject(t, "statefulset-partitioned", e.get(id, "apps/v1"))

	e.apply(manifest("postgres:17", "0"))
	res, events, err = e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, "3 of 3 replicas ready", res.Objects[id].Message)
	assert.NotEmpty(t, events)
}

func TestDaemonSetRollout(t *testing.T) {
	e := newEnv(t)
	manifest := func(image string) string {
		return `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "` + image + `"}]}
`
	}
	id := e.apply(manifest("agent:1"))
	res, events, err := e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, "2 of 2 pods available", res.Objects[id].Message, "one pod per fake node")
	assert.NotEmpty(t, events)
	recordObject(t, "daemonset-available", e.get(id, "apps/v1"))

	e.apply(manifest("agent:2"))
	s := health.Assess(e.get(id, "apps/v1"))
	assert.Equal(t, health.Progressing, s.Code, s.Message)
	res, _, err = e.wait(health.WaitOptions{}, id)
	require.NoError(t, err)
	assert.Equal(t, health.Healthy, res.Objects[id].Code)
}

func jobManifest(name, label string) string {
	return `apiVersion: batch/v1
kind: Job
metadata: {name: ` + name + `}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {gitopskit.io/kwok: ` + label + `}}
    spec:
      restartPolicy: Never
      containers: [{name: task, image: busybox}]
`
}

func TestJob(t *testing.T) {
	e := newEnv(t)
	ok := e.apply(jobManifest("ok", "complete"))
	fail := e.apply(jobManifest("fail", "fail"))

	res, _, err := e.wait(health.WaitOptions{}, ok)
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Healthy, Message: "Job completed: 1 succeeded"}, res.Objects[ok])
	recordObject(t, "job-complete", e.get(ok, "batch/v1"))

	res, _, err = e.wait(health.WaitOptions{FailFast: true}, fail)
	require.ErrorIs(t, err, health.ErrDegraded)
	assert.Equal(t, health.Degraded, res.Objects[fail].Code)
	assert.Contains(t, res.Objects[fail].Message, "BackoffLimitExceeded")
	recordObject(t, "job-failed", e.get(fail, "batch/v1"))

	// The failed Job's pod, as kwok's stage left it.
	pods, err := e.dyn.Resource(podsGVR).Namespace(e.ns).List(e.ctx, metav1.ListOptions{LabelSelector: "gitopskit.io/kwok=fail"})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)
	s := health.Assess(&pods.Items[0])
	assert.Equal(t, health.Degraded, s.Code, s.Message)
	recordObject(t, "pod-failed", &pods.Items[0])

	suspended := e.apply(strings.Replace(jobManifest("later", "complete"), "backoffLimit: 0", "backoffLimit: 0\n  suspend: true", 1))
	res, _, err = e.wait(health.WaitOptions{}, suspended)
	require.NoError(t, err)
	assert.Equal(t, health.Suspended, res.Objects[suspended].Code)
	recordObject(t, "job-suspended", e.get(suspended, "batch/v1"))
}

func TestDeletedWhileWaitingIsMissing(t *testing.T) {
	e := newEnv(t)
	id := e.apply(strings.Replace(deploymentManifest("doomed", "nginx:1.27", ""),
		"containers:", "nodeSelector: {gitopskit.io/none: none}\n      containers:", 1))
	absent := object.ID{Group: "apps", Kind: "Deployment", Namespace: e.ns, Name: "never-created"}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var events []health.Event
	res, err := e.waiter.Wait(ctx, []object.ID{id, absent}, health.WaitOptions{Progress: func(ev health.Event) {
		events = append(events, ev)
		switch {
		case ev.ID == id && ev.Status.Code == health.Progressing && ev.Previous.Code == health.Unknown:
			require.NoError(t, e.resource(e.get(id, "apps/v1")).Delete(e.ctx, id.Name, metav1.DeleteOptions{}))
		case ev.ID == id && ev.Status.Code == health.Missing:
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, health.Status{Code: health.Missing, Message: "deleted"}, res.Objects[id])
	assert.Equal(t, health.Status{Code: health.Missing, Message: "not found"}, res.Objects[absent])
	assert.Equal(t, health.Missing, res.Status.Code)
	assert.Contains(t, err.Error(), "0 of 2 objects done")
	assert.NotEmpty(t, events)
}
