package health_test

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
)

// Wait until a Deployment has rolled out: one watch per resource type, no polling.
func ExampleWaiter_Wait() {
	ctx := context.Background()
	if err := cluster.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	cfg := cluster.RESTConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "example-wait"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		panic(err)
	}
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	web := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "example-wait"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("example-wait").Create(ctx, web, metav1.CreateOptions{}); err != nil {
		panic(err)
	}

	w, err := health.NewWaiterForConfig(cfg, health.WaiterOptions{})
	if err != nil {
		panic(err)
	}
	id := object.ID{Group: "apps", Kind: "Deployment", Namespace: "example-wait", Name: "web"}
	res, err := w.Wait(ctx, []object.ID{id}, health.WaitOptions{Timeout: 2 * time.Minute, FailFast: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status.Code, res.Objects[id].Code)
	// Output: Healthy Healthy
}
