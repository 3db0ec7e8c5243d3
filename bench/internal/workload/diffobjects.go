package workload

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// desiredObject returns desired object i of a [DiffSet] in namespace ns: four in ten
// are Deployments, three Services and three ConfigMaps. The Deployments write
// quantities in forms the API server rewrites ("1000m", "0.5Gi"), so a diff that
// compares text reports false changes.
func desiredObject(ns string, i int) *unstructured.Unstructured {
	name := fmt.Sprintf("app-%04d", i)
	var o map[string]any
	switch i % 10 {
	case 0, 1, 2, 3:
		o = map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"app": name, "tier": "web"}},
			"spec": map[string]any{
				"replicas": int64(2),
				"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "image": "nginx:1.27",
						"ports":     []any{map[string]any{"containerPort": int64(80)}, map[string]any{"containerPort": int64(9090), "name": "metrics"}},
						"env":       []any{map[string]any{"name": "MODE", "value": "prod"}},
						"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "64Mi"}, "limits": map[string]any{"cpu": "1000m", "memory": "0.5Gi"}},
					}}},
				},
			}}
	case 4, 5, 6:
		o = map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"app": name}},
			"spec": map[string]any{"selector": map[string]any{"app": name}, "clusterIP": "None",
				"ports": []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}}}}
	default:
		o = map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name},
			"data":     map[string]any{"color": "blue", "size": "large", "index": fmt.Sprint(i)}}
	}
	u := &unstructured.Unstructured{Object: o}
	u.SetNamespace(ns)
	return u
}

// change makes a real change to object i: a new image, a new target port, or a
// removed ConfigMap key.
func change(u *unstructured.Unstructured, i int) {
	switch u.GetKind() {
	case "Deployment":
		c, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		c[0].(map[string]any)["image"] = fmt.Sprintf("nginx:1.%d", 28+i%3)
		_ = unstructured.SetNestedSlice(u.Object, c, "spec", "template", "spec", "containers")
	case "Service":
		p, _, _ := unstructured.NestedSlice(u.Object, "spec", "ports")
		p[0].(map[string]any)["targetPort"] = int64(8081)
		_ = unstructured.SetNestedSlice(u.Object, p, "spec", "ports")
	default:
		delete(u.Object["data"].(map[string]any), "size")
	}
}
