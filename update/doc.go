// Package update is the building blocks of a config updater: the program that,
// in GitOps, notices a new image version in a registry, writes it into the
// manifests in Git and commits, so that the agent deploys the commit. Flux's
// image-reflector and image-automation controllers and Argo CD Image Updater do
// the same work; this package is their parts as a library.
//
// The parts, each usable alone:
//
//   - [Registry] lists the tags of an image repository and resolves a tag's
//     digest (go-containerregistry: anonymous, basic, the registry token flow or a
//     pre-issued bearer token, a custom CA, a timeout). Credentials never appear in
//     its errors or logs.
//   - [Policy] picks the newest tag: the highest semantic version in a range
//     (pre-releases only when asked), the greatest number, or the last (or first)
//     string, after an optional regular-expression filter whose groups can extract
//     the value to order by, as Flux's filterTags does. A policy may pin the tag's
//     digest ("image:tag@sha256:…").
//   - [Setter] writes the chosen images into YAML in place: fields marked with a
//     comment naming a policy (`# {"$imagepolicy": "ns:name"}`, with ":tag",
//     ":name" and ":digest" variants), container images of workloads whose
//     repository is a policy's image, and a kustomization's images list. Only
//     those bytes change; comments, order, quoting and indentation are kept, and
//     an edit the setter cannot make exactly is an error, never a guess.
//   - [Run] is one pass: scan, choose, edit the files of a Git checkout and push
//     one commit listing each change through source/git, retrying on the new head
//     when another writer moved the branch. It returns what it committed, so that
//     a caller can reconcile that revision next.
//
// The package owns no loop and no schedule: examples/image-updater runs Run on an
// interval.
package update
