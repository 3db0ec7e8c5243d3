// Package diff benchmarks gitopskit's diff engines on 1,000 (desired, live) pairs
// applied to a real API server (clustertest; Services are headless because its
// service IP range is small), with 10% real changes: the offline
// engine's time per object and its false positives and negatives, against the
// server-side (dry-run) engine on the same pairs.
//
// The workload is bench/internal/workload's DiffSet. Argo CD's gitops-engine diff
// package, which needs Go 1.27, is compared on the same pairs in the module
// bench/gitopsengine.
//
//	cd bench && go test -run XXX -bench . ./diff/
package diff
