package clustertest_test

import (
	"context"
	"fmt"

	"github.com/gitopskit/gitopskit/clustertest"
	"k8s.io/client-go/kubernetes"
)

// A cluster outside of tests, for a program or a demo. Tests use New, Run and Config.
func ExampleStart() {
	ctx := context.Background()
	c, err := clustertest.Start(ctx, clustertest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Stop()

	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.GitVersion)
	// Output: v1.37.2
}
