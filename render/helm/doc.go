// Package helm renders Helm charts found in an artifact with the Helm SDK, as
// `helm template` does, for render.Auto or on its own.
//
// A [Renderer] reads the chart directory (and its charts/ subcharts, as
// directories or archives) and the values files only through the render.Input's
// fs.FS, so nothing outside the artifact root is read. Values merge in Helm's order
// (values files, inline values, --set, --set-string, see render.HelmOptions).
// Rendering is client-only: no cluster is contacted, `lookup` finds nothing, and
// .Capabilities come from the options (Kubernetes version, extra API versions).
// CRDs from crds/ directories are included unless skipped; hooks are kept as
// objects with their helm.sh/hook, helm.sh/hook-weight and
// helm.sh/hook-delete-policy annotations so that an applier can order them; chart
// tests are left out unless asked for.
//
// Helm itself sits behind the [Engine] seam: [V3] is the Helm 3 SDK, and a Helm 4
// engine can be added beside it without changing this package's or render's API.
//
// Charts are read from the artifact only: pulling from HTTP repositories or OCI
// registries, and resolving dependencies that are not vendored in charts/, are not
// supported yet.
package helm
