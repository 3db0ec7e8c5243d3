// Package helm4 is the Helm 4 engine of package render/helm: [New] returns a
// helm.Engine that renders charts with the Helm 4 SDK (helm.sh/helm/v4) where
// helm.V3, the default, uses Helm 3's. A program selects it by setting
// helm.Options.Engine; one that does not import this package does not link
// Helm 4.
//
//	r := helm.New(helm.Options{Engine: helm4.New(logger)})
//
// Everything but the templating stays with helm.Renderer, whichever the engine:
// reading the chart and values files inside the artifact root, merging values in
// Helm's order, .Capabilities from the options (Kubernetes version, extra API
// versions), CRDs, hooks kept with their annotations, the render limits, and
// remote charts only with helm.Options.Remote. Like helm.V3, the engine runs the
// steps of a client-only install itself, through Helm 4's chart loader, values
// coalescing, template engine and manifest sorting, so it links neither Helm's
// actions and release storage nor kubectl, cli-runtime or cobra; `lookup` finds
// nothing and getHostByName answers nothing.
//
// Helm 4 renders most charts as Helm 3 does. Where it differs on purpose, and
// how to choose between the engines, see docs/render.md ("Helm 4").
package helm4
