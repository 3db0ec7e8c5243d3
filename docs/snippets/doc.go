// Package snippets holds the Go code of the guides in docs/, so that the code a
// reader copies compiles and runs in CI. Each guide's code block follows a marker
// line "<!-- snippet: NAME -->" and must equal the region between
// "// snippet: NAME" and "// end snippet" in a Go file of this directory.
// TestGuidesMatchSnippets checks that they agree; with -update it rewrites the
// guides from the Go files.
package snippets
