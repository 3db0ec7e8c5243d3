// Command etcd is the etcd server at the version Kubernetes requires, built from the
// Go module proxy for gitopskit's clustertest.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
