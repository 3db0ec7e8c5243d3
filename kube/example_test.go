package kube_test

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/kube"
)

// One set of clients for several packages: the apply manager and the health waiter
// share a connection pool and a discovery cache.
func ExampleNewForConfig() {
	if err := cluster.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	clients, err := kube.NewForConfig(cluster.RESTConfig(), kube.Options{})
	if err != nil {
		panic(err)
	}
	manager, err := apply.New(clients.Dynamic, clients.Mapper, apply.Options{Discovery: clients.Discovery, Metadata: clients.Metadata})
	if err != nil {
		panic(err)
	}
	waiter := health.NewWaiter(clients.Dynamic, clients.Mapper, health.WaiterOptions{})
	gvk, err := clients.Mapper.KindFor(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"})
	fmt.Println(manager != nil, waiter != nil, gvk.Kind, err)
	// Output:
	// true true Deployment <nil>
}
