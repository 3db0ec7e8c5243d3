// Package fleet measures gitopskit's answer to many sets on one cluster (a
// reconcile.Reconciler per set, one live.Cache for the cluster, a reconcile.Group
// for a commit) against a loop over fluxcd/pkg/ssa shaped like Flux's
// kustomize-controller, on a cluster with fake nodes: commit to healthy, steady
// state requests, CPU and memory, and the time a manual edit takes to heal.
//
// Flux's own controllers are not run: hack/flux.sh builds them when the module
// proxy serves every module they need, which it does not here (see
// docs/fleet.md). Run with
//
//	cd bench && go test -run XXX -bench . -benchtime 1x ./fleet/
//
// FLEETBENCH_SETS (default 20) sets the number of sets, FLEETBENCH_INTERVAL
// (default 30s) the interval both tools reconcile at, FLEETBENCH_WINDOW (default
// 60s) the steady-state window.
//
// BenchmarkManyClusters is the other direction: one set, one commit, fanned out
// through package fleet to FLEETBENCH_CLUSTERS (default 8) API servers on one etcd
// registered as Argo CD and Cluster API Secrets, one more being down; see "How far
// it goes" in docs/fleet.md.
package fleet
