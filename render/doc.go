// Package render turns a directory of an artifact into the Kubernetes objects it
// declares: plain YAML and JSON, a kustomization, or a Helm chart. It then applies
// the post-render transforms GitOps tools need: a default namespace, common labels
// and annotations, and ${VAR} substitution with Flux's postBuild semantics.
//
// A [Renderer] reads an [Input] (an fs.FS rooted at the artifact, a directory in
// it, and the artifact's digest) and returns a [Result]: the objects in order, each
// with the file it came from, and warnings. [Plain] is built in; the kustomize and
// Helm renderers live in render/kustomize and render/helm so that a program pays
// for those dependencies only when it imports them. [Auto] picks the renderer from
// the directory's content ([Detect]): a kustomization file means kustomize, a
// Chart.yaml means Helm, a kustomization in a directory below (Flux's
// clusters/<name>) means kustomize too, anything else is plain YAML. [Cache] remembers results by
// artifact digest and options.
//
// Renderers are safe by default: files are read only through the Input's fs.FS,
// whose root the caller chooses ((*os.Root).FS refuses paths and symlinks leaving
// it); nothing reaches the network or runs a program unless the caller opts in;
// [Limits] bound the number and size of the objects. Errors name the file.
// Renderers print nothing: what kustomize and Helm would print goes to
// [Result].Warnings.
//
// [Transform] is a separate step on a Result, so cached results stay independent of
// the cluster a RESTMapper describes:
//
//	res, err := cache.Render(ctx, render.Input{FS: root.FS(), Dir: "apps/prod", Digest: rev}, render.Options{})
//	err = render.Transform{Namespace: "prod", Mapper: mapper, Vars: vars, Strict: true}.Apply(res)
package render
