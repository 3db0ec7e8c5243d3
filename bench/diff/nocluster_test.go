package diff

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/diff"
)

// A Deployment as the API server stores it after an apply by "gitopskit" (with
// its defaults and managedFields), and the manifest with a new image.
const noClusterLive = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  managedFields:
  - manager: gitopskit
    operation: Apply
    apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:selector: {}
        f:template:
          f:metadata: {f:labels: {f:app: {}}}
          f:spec:
            f:containers:
              k:{"name":"web"}: {.: {}, f:image: {}, f:name: {}, f:resources: {f:requests: {f:cpu: {}}}}
spec:
  replicas: 1
  revisionHistoryLimit: 10
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        imagePullPolicy: IfNotPresent
        resources: {requests: {cpu: 500m}}
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
`

const noClusterDesired = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.28", resources: {requests: {cpu: 0.5}}}
`

func noClusterPair(b *testing.B) (desired, live *unstructured.Unstructured) {
	desired, live = &unstructured.Unstructured{}, &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(noClusterDesired), &desired.Object); err != nil {
		b.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(noClusterLive), &live.Object); err != nil {
		b.Fatal(err)
	}
	return desired, live
}

func noClusterDiff(b *testing.B, d *diff.Differ, desired, live *unstructured.Unstructured) {
	c, err := d.Diff(context.Background(), desired, live)
	if err != nil {
		b.Fatal(err)
	}
	if c.Action != diff.Update || c.Typing != diff.TypingBuiltin || len(c.Paths) != 1 {
		b.Fatalf("got %s %v typed %q, want the image changed, typed built-in", c.Action, c.Paths, c.Typing)
	}
}

// BenchmarkOfflineNoClusterFirstUse diffs a changed Deployment with a new offline
// engine that has no cluster each time: the time includes decoding the shipped
// schemas of the built-in kinds, which an engine does once, on first use. Less
// BenchmarkOfflineNoCluster, it is the cost of that decoding.
func BenchmarkOfflineNoClusterFirstUse(b *testing.B) {
	desired, live := noClusterPair(b)
	for i := 0; i < b.N; i++ {
		d, err := diff.New(diff.NewOffline(nil, diff.OfflineOptions{}), diff.Options{FieldManager: "gitopskit"})
		if err != nil {
			b.Fatal(err)
		}
		noClusterDiff(b, d, desired, live)
	}
}

// BenchmarkOfflineNoCluster diffs the same Deployment with one warm engine.
func BenchmarkOfflineNoCluster(b *testing.B) {
	desired, live := noClusterPair(b)
	d, err := diff.New(diff.NewOffline(nil, diff.OfflineOptions{}), diff.Options{FieldManager: "gitopskit"})
	if err != nil {
		b.Fatal(err)
	}
	noClusterDiff(b, d, desired, live)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		noClusterDiff(b, d, desired, live)
	}
}
