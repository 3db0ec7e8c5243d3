// Package render measures gitopskit's renderers against the kustomize and helm
// programs on the same input (the Helm renderer also against Helm's bare
// template engine, and as a whole process, cmd/helmtemplate, against
// `helm template`), and a cache hit against a cold render. The inputs
// are generated into a temporary directory by the benchmarks.
package render
