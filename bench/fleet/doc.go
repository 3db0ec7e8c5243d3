// Package fleet measures gitopskit's answer to many sets on one cluster (a
// reconcile.Reconciler per set, one live.Cache for the cluster, a reconcile.Group
// for a commit) against Flux's own source-controller and kustomize-controller, on
// a cluster with fake nodes: commit to healthy, steady-state requests, CPU and
// memory, and the time a manual edit takes to heal.
//
// Flux's controllers are processes of their own, built by hack/flux.sh (`make
// flux` prints their directory); GITOPSKIT_FLUX_DIR names it. Without it the
// benchmark measures a loop over fluxcd/pkg/ssa shaped like kustomize-controller
// instead. Run with
//
//	cd bench && GITOPSKIT_FLUX_DIR=$(../hack/flux.sh) go test -run XXX -bench Fleet -benchtime 1x ./fleet/
//
// FLEETBENCH_SETS (default 20) sets the number of sets, FLEETBENCH_INTERVAL
// (default 30s) the interval both tools reconcile at, FLEETBENCH_WINDOW (default
// 60s) the steady-state window. The cluster's controller manager and scheduler
// run without client rate limits (clustertest.Options.DisableQPSLimits), so that
// the rollouts are not what is measured; FLEETBENCH_DEFAULT_QPS=1 keeps their
// defaults. FLEETBENCH_FLUX_LOG sets the controllers' log level (error), and
// FLEETBENCH_HEAPPROFILE=path writes gitopskit's heap profile to path.gitopskit.
// FLEETBENCH_HEAL_TIMEOUT bounds the wait for a manual edit to be healed
// (default the interval and a minute, a failure); past it, the time waited is
// reported as a lower bound, for a tool that heals at a long interval.
//
// BenchmarkManyClusters is the other direction: one set, one commit, fanned out
// through package fleet to FLEETBENCH_CLUSTERS (default 8) API servers on one etcd
// registered as Argo CD and Cluster API Secrets, one more being down; see "How far
// it goes" in docs/fleet.md.
package fleet
