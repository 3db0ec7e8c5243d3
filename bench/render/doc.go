// Package render measures gitopskit's renderers against the kustomize and helm
// programs on the same input, and a cache hit against a cold render. The inputs
// are generated into a temporary directory by the benchmarks.
package render
