package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/gitopskit/gitopskit/health"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// TestOtherKinds brings each remaining built-in kind to a state its controller
// really writes in this cluster (no storage provisioner, no load balancer, no
// ingress controller, no metrics server), checks the assessment and records it.
func TestOtherKinds(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		record, apiVersion, manifest string
		want                         health.Status
	}{
		{"pvc-pending", "v1", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data},
			spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}`,
			health.Status{Code: health.Progressing, Message: "claim is pending"}},
		{"service-clusterip", "v1", `{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 80}]}}`,
			health.Status{Code: health.Healthy}},
		{"service-loadbalancer-pending", "v1", `{apiVersion: v1, kind: Service, metadata: {name: lb}, spec: {type: LoadBalancer, ports: [{port: 80}]}}`,
			health.Status{Code: health.Progressing, Message: "waiting for a load balancer address"}},
		{"ingress-no-address", "networking.k8s.io/v1", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: web},
			spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}}`,
			health.Status{Code: health.Progressing, Message: "waiting for an ingress controller to assign an address"}},
		{"cronjob-suspended", "batch/v1", `{apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly},
			spec: {schedule: "0 3 * * *", suspend: true, jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}}`,
			health.Status{Code: health.Suspended, Message: "CronJob is suspended"}},
		{"cronjob-active", "batch/v1", `{apiVersion: batch/v1, kind: CronJob, metadata: {name: hourly},
			spec: {schedule: "0 * * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}}}`,
			health.Status{Code: health.Healthy, Message: "not yet scheduled"}},
		{"replicaset-available", "apps/v1", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: rs},
			spec: {replicas: 2, selector: {matchLabels: {app: rs}}, template: {metadata: {labels: {app: rs}}, spec: {containers: [{name: c, image: nginx}]}}}}`,
			health.Status{Code: health.Healthy, Message: "2 of 2 replicas available"}},
		{"pod-running", "v1", `{apiVersion: v1, kind: Pod, metadata: {name: solo}, spec: {containers: [{name: c, image: nginx}]}}`,
			health.Status{Code: health.Healthy, Message: "Pod ready"}},
		{"pod-unschedulable", "v1", `{apiVersion: v1, kind: Pod, metadata: {name: nowhere},
			spec: {nodeSelector: {gitopskit.io/none: none}, containers: [{name: c, image: nginx}]}}`,
			health.Status{Code: health.Progressing}},
		{"pdb-insufficient", "policy/v1", `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: nobody},
			spec: {minAvailable: 1, selector: {matchLabels: {app: nobody}}}}`,
			health.Status{Code: health.Progressing, Message: "0 of 1 required pods healthy"}},
		{"pdb-healthy", "policy/v1", `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: rs},
			spec: {minAvailable: 1, selector: {matchLabels: {app: rs}}}}`,
			health.Status{Code: health.Healthy, Message: "1 disruptions allowed"}},
		{"hpa-no-metrics", "autoscaling/v2", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: rs},
			spec: {scaleTargetRef: {apiVersion: apps/v1, kind: ReplicaSet, name: rs}, minReplicas: 1, maxReplicas: 3,
			metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]}}`,
			health.Status{Code: health.Degraded}},
	}
	for _, c := range cases {
		e.apply(c.manifest)
	}
	for _, c := range cases {
		t.Run(c.record, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion(c.apiVersion)
			var got health.Status
			var last *unstructured.Unstructured
			err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, 45*time.Second, true, func(ctx context.Context) (bool, error) {
				live, err := e.get2(c.apiVersion, c.manifest)
				if err != nil {
					return false, err
				}
				last, got = live, health.Assess(live)
				return got.Code == c.want.Code && (c.want.Message == "" || got.Message == c.want.Message), nil
			})
			require.NoError(t, err, "last status %s", got)
			t.Logf("%s: %s", c.record, got)
			recordObject(t, c.record, last)
		})
	}

	// Cluster-scoped kinds the control plane runs itself.
	apiService, err := e.dyn.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}).
		Get(e.ctx, "v1.apps", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, health.Status{Code: health.Healthy, Message: "available"}, health.Assess(apiService))
	recordObject(t, "apiservice-local", apiService)
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	ns, err := e.dyn.Resource(nsGVR).Get(e.ctx, e.ns, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, health.Healthy, health.Assess(ns).Code)
	recordObject(t, "namespace-active", ns)
}
