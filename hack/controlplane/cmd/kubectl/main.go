// Command kubectl is the upstream kubectl at the cluster's version, built from the Go
// module proxy so tests and benchmarks compare against the real client.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() { os.Exit(cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand())) }
