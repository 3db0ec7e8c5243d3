// Command setup builds the binaries clustertest runs (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler, kubectl and kwok) from the Go module proxy
// into a cache shared by every module on the machine, and prints their directory,
// where clustertest finds them by itself. Run from a module that requires gitopskit,
//
//	go run github.com/gitopskit/gitopskit/clustertest/setup
//
// builds them for the gitopskit version that module requires;
// `go run github.com/gitopskit/gitopskit/clustertest/setup@v1.2.3` does from anywhere.
// The first build takes several minutes; when the binaries are already there it
// returns at once. The cache is ~/.cache/gitopskit (the user cache directory) unless
// GITOPSKIT_CACHE_DIR names another; the build needs the go command on PATH.
//
// With -module DIR it writes the Go module that builds them into DIR and builds
// nothing, for changing the versions it builds (see that module's go.mod).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/gitopskit/gitopskit/clustertest/internal/controlplane"
)

func main() {
	module := flag.String("module", "", "write the module that builds the binaries into `dir` and build nothing")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-module dir]\n\n"+
			"Builds clustertest's control plane into the cache and prints its directory.\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *module != "" {
		if err := controlplane.WriteModule(*module); err != nil {
			fmt.Fprintln(os.Stderr, "setup:", err)
			os.Exit(1)
		}
		return
	}
	// On an interrupt the build stops and removes its temporary directory.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	dir, err := controlplane.Build(ctx, controlplane.CacheDir(), os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
