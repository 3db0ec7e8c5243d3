// Package kustomize renders kustomizations with the kustomize API (krusty), the
// library behind `kustomize build` and `kubectl kustomize`.
//
// A [Renderer] reads the artifact only through the render.Input's fs.FS, which it
// presents to kustomize as a read-only file system rooted at "/": no path a
// kustomization computes ("../../..", "/etc/passwd") can leave the artifact. Files
// are further limited to each kustomization's own directory unless
// Options.LoadRestrictions says otherwise; bases and components elsewhere in the
// artifact stay allowed, as in kustomize.
//
// A path a kustomization names that leaves the artifact root ("../app" at the
// root, an absolute path) fails with render.ErrOutsideRoot, naming the
// kustomization. A directory without a kustomization is built as Flux's
// kustomize-controller builds it, from the kustomization it would generate: its
// subdirectories holding one as bases, its other .yaml and .yml files as
// resources.
//
// kustomize keeps process-wide state that the Renderer keeps to each build:
// kyaml's OpenAPI schema, which a kustomization's openapi field changes, is put
// back to the default around every build (builds run one at a time), so a build
// sees what `kustomize build` sees in a fresh process; the deprecation warnings
// kustomize prints to os.Stderr, and what it logs, become the Result's warnings,
// naming the kustomization, and lines of the Logger.
//
// Safe by default: exec, container and Starlark function plugins are always off
// (builtin generators and transformers only); helmCharts inflation, which runs the
// helm program, is off unless Options.EnableHelm; remote bases, remote files and
// Helm repositories are refused with render.ErrRemote unless Options.AllowRemote,
// and so are builtin plugin configurations naming an http(s) file.
//
// Each object's origin is the file it was declared in, relative to the artifact
// root, or for a generated object the kustomization that generated it. The
// renderer marks each document of a resource file with a top-level field naming
// the file as kustomize reads it, and removes it from the output; kustomize's own
// origin annotations, which make its name-reference pass about 10% slower, are
// used (and kept in the output) only when the kustomization asks for them in
// buildMetadata. A file that is also a patch or a generator's source is not
// marked, so that its content reaches kustomize as written; its objects' origin is
// the top kustomization.
//
// Resource files are read as object.Decode reads files: a key written twice (or as
// 1 and "1"), an integer beyond int64, and an apiVersion, kind, name or namespace
// that YAML 1.1 reads as a boolean or number (kyaml reads `name: y` as "y", kubectl
// as true) are an *object.DecodeError wrapping object.ErrInvalid, with the file and
// line. Integers beyond int64 in kustomize's output, which patches can bring, are
// refused too, naming the object and its file.
package kustomize
