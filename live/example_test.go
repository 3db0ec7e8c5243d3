package live_test

import (
	"context"
	"fmt"

	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/live"
	"github.com/gitopskit/gitopskit/object"
)

// The live state of a namespace from a watch: the first read lists and watches,
// later reads are answered from memory. The objects asked for are held whole,
// the others of the namespace as metadata, until they are released.
func ExampleCache_Objects() {
	ctx := context.Background()
	if err := cluster.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	clients, err := kube.NewForConfig(cluster.RESTConfig(), kube.Options{})
	if err != nil {
		panic(err)
	}
	cache := live.New(clients, live.Options{})
	defer cache.Stop()
	root := object.ID{Kind: "ConfigMap", Namespace: "kube-system", Name: "extension-apiserver-authentication"}
	objs, err := cache.Objects(ctx, []object.ID{root})
	s := cache.Stats()
	fmt.Println(objs[root] != nil, err, s.Watches, s.Full)
	cache.Release([]object.ID{root})
	fmt.Println(cache.Stats().Full)
	// Output:
	// true <nil> 1 1
	// 0
}
