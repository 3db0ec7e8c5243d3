// Package diff benchmarks gitopskit's diff engines on 1,000 (desired, live) pairs
// applied to a real API server (clustertest; Services are headless because its
// service IP range is small), with 10% real changes: the offline
// engine's time per object and its false positives and negatives, against the
// server-side (dry-run) engine on the same pairs.
//
// Argo CD's gitops-engine diff package, the natural comparison, cannot be built in
// this module: github.com/argoproj/argo-cd/gitops-engine/v3 (v3.6.0, v3.6.1) declares
// `go 1.27.0` while the project builds with Go 1.26, and
// github.com/argoproj/gitops-engine v0.7.3 (the last release of the old module)
// requires k8s.io/kubernetes v1.23.1, whose go.mod asks for k8s.io/api v0.0.0 and so
// does not resolve, and would not compile against k8s.io/* v0.37 anyway.
//
//	cd bench && go test -run XXX -bench . ./diff/
package diff
