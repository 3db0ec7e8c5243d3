// Package fake provides in-memory stages for unit tests of code built on package
// reconcile: a [Source] serving files from memory and a [Cluster] that diffs,
// applies, prunes and reports health over a map of objects, with failures to inject.
//
// They model the contracts of the stage interfaces, not the API server: for
// behaviour that depends on server-side apply, use the real stages against
// clustertest.
package fake
