// Package bench measures gitopskit against the tools a user would otherwise pick,
// side by side in one run: each subpackage runs one workload through both and reports
// the ratio. It is its own module so that the tools compared against never enter
// gitopskit's go.mod.
//
// Run everything with `make bench`, or one package with
// `cd bench && go test -run XXX -bench . ./source/`.
package bench
