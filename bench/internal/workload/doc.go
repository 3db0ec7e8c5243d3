// Package workload holds the benchmark workloads that more than one bench package
// runs, so that gitopskit and each tool it is compared with see the same objects:
// the diff benchmarks' 1,000 (desired, live) pairs ([NewDiffSet]) and the health
// benchmarks' mixed objects ([Mixed], [CELRules]), and the chart of 300 templates
// the Helm benchmarks render ([WriteChart]).
//
// It is imported by the bench module's packages and by bench/gitopsengine, the
// module that needs a newer Go toolchain than the rest.
package workload
