// Package gitopsengine measures gitopskit against Argo CD's gitops-engine
// (github.com/argoproj/argo-cd/gitops-engine/v3), side by side in one run, on the
// workloads of bench/diff and bench/health (package bench/internal/workload):
//
//   - BenchmarkDiff: 1,000 (desired, live) pairs from a real API server
//     (clustertest), 10% real changes. gitopskit's offline engine against
//     gitops-engine's offline diff (diff.Diff without server-side diff: the
//     strategic-merge-patch diff Argo CD uses by default), both on one goroutine,
//     with the false positives and negatives of each.
//   - BenchmarkServerDiff: the same pairs through each tool's server-side diff (a
//     dry-run apply per object, one at a time).
//   - BenchmarkAssess: 10,000 objects of mixed kinds and statuses through
//     health.Assess (without and with CEL rules), gitops-engine's
//     health.GetResourceHealth and kstatus's status.Compute.
//
// It is its own module because gitops-engine v3.6 declares `go 1.27.0` while
// gitopskit and the bench module build with Go 1.26; run it with GOTOOLCHAIN=auto,
// which fetches the 1.27 toolchain from the module proxy:
//
//	cd bench/gitopsengine && GOTOOLCHAIN=auto go test -run XXX -bench . -benchtime 5x ./...
package gitopsengine
