// Package helm renders Helm charts found in an artifact with the Helm SDK, as
// `helm template` does, for render.Auto or on its own.
//
// A [Renderer] reads the chart directory (and its charts/ subcharts, as
// directories or archives) and the values files only through the render.Input's
// fs.FS, so nothing outside the artifact root is read. Values merge in Helm's order
// (values files, inline values, --set, --set-string, see render.HelmOptions).
// Rendering is client-only: `lookup` finds nothing, and .Capabilities come from
// the options (Kubernetes version, extra API versions). The Kubernetes version is
// render.HelmOptions.KubeVersion, else that of Options.Cluster when set (the only
// call to a cluster), else that of the Kubernetes libraries the program is built
// with, as a release helm binary reports (v1.N.0 for k8s.io/client-go v0.N.x),
// not the Helm library's v1.20.0. The output is read as Helm reads it
// (object.Decoder.Lenient): a key written twice keeps its last value, unquoted
// label values become strings, documents without apiVersion and kind are
// skipped, and hooks named by generateName are objects like the others. What the
// Helm SDK prints with the standard logger becomes the Result's warnings and
// lines of the Logger.
// CRDs from crds/ directories are included unless skipped; hooks are kept as
// objects with their helm.sh/hook, helm.sh/hook-weight and
// helm.sh/hook-delete-policy annotations so that an applier can run them (apply's
// ApplyOptions.Hooks does, in their phases); chart
// tests are left out unless asked for.
//
// Helm itself sits behind the [Engine] seam: [V3] is the Helm 3 SDK and the
// default; render/helm/helm4 is the Helm 4 SDK's, which only programs that
// import it link (see docs/render.md, "Helm 4"). [V3] runs the steps of a client-only install itself, through Helm's chart
// loader, values coalescing, template engine and manifest sorting, so the
// package does not link Helm's actions, release storage (and its SQL drivers),
// kubectl, cli-runtime or cobra.
//
// # Remote charts and dependencies
//
// By default nothing reaches the network. With [Options].Remote set, a
// [Renderer] also renders charts named by render.HelmOptions.Chart (an HTTP chart
// repository's URL or an oci:// repository, a name and a version constraint), and
// fetches the dependencies a chart's Chart.yaml lists and its charts/ directory
// lacks: at the version Chart.lock pins (its digest checked against Chart.yaml,
// as `helm dependency build` does) or else the highest matching Chart.yaml's
// constraint. Dependencies in the artifact (file://) need no opt-in and stay
// inside its root. Without the opt-in, renders that need a remote chart fail
// with render.ErrRemote, naming it.
//
// Fetching reads repository indexes as Helm does and uses Helm's registry
// client, with basic auth by host, an extra CA bundle, a timeout and size limits ([RemoteOptions]).
// Credentials never appear in errors or logs. Downloaded archives are kept in a
// directory, named by their URL, version and digest, and unpacked in memory:
// entries that would leave the chart ("..", absolute paths) and links are
// refused. The Renderer is a render.Pinner, so a render.Cache in front of it
// keys results on the resolved versions and digests too: a new upstream version
// is rendered, not served from the cache.
package helm
