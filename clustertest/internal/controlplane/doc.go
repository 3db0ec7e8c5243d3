// Package controlplane builds the binaries clustertest runs (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler, kubectl, kwok and kwok's stages) from the
// Go module proxy into a cache shared by every module on the machine, and finds them
// there.
//
// The build is a Go module of its own, embedded here (_module) and written out at
// build time: building k8s.io/kubernetes needs a replace directive for each of its
// staging modules, and `go run module@version` refuses a module with replace
// directives, so those lines cannot live in gitopskit's go.mod. kwok is built in the
// same module, so it shares the control plane's Kubernetes packages instead of
// compiling its own older copies.
//
// The package imports only the standard library: clustertest/setup, its command,
// must run from any module that requires gitopskit without adding to its go.sum.
package controlplane
