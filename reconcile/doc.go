// Package reconcile runs one pass of the GitOps flow: fetch the source, render it,
// transform the objects, diff them against the cluster, apply, prune, and assess
// health. A [Result] says which revision the pass saw, the plan it found (a
// [diff.Change] per object), what it applied, pruned, skipped or failed on, the health of
// the set, whether the cluster had drifted and how long each stage took.
//
// The package owns no loop, CRD or scheduler: a controller, an agent or a CI job
// calls [Reconciler.Reconcile] when it wants a pass (see examples/gitsync).
//
// # Stages
//
// Every stage is an interface defined here ([Source], render.Renderer,
// [Transformer], [Differ], [Applier], [HealthChecker]) and given to [New] in
// [Stages]. The packages source, render, diff, apply and health implement them; the
// subpackage fake implements them in memory, so the decisions a reconciler makes
// can be unit-tested without a cluster.
//
// # Modes
//
//   - [Apply] applies a revision it has not applied yet. Drift at an applied
//     revision (a manual edit) is reported, not reverted.
//   - [SelfHeal] applies whenever the plan is not empty, reverting drift.
//   - [DriftOnly] never writes: the result lists the objects out of sync.
//   - [DryRun] never writes: changes are applied and pruned as a server-side dry run.
//
// # Work skipped
//
// A Reconciler remembers its last render, keyed by the artifact's digest, the path
// and the render options: a pass over an unchanged revision does not read or parse
// the files again (transforms still run, on a copy). The cluster stages ([Cluster])
// keep the live copies the last diff read and use them again while each object's
// resourceVersion is unchanged, which a metadata-only list (protobuf, no spec or
// status) tells; when nothing changed on either side, the last plan is the answer.
// A steady-state pass therefore costs one such list per resource type and
// namespace, and no diff. When the plan is empty the apply and prune stages do not
// run, and health is assessed without waiting, from the same live copies.
//
// # Safety
//
// A pass whose source, render, transforms or diff fail writes nothing. Prune runs
// only after every object applied without error. A desired set that is empty while
// pruning is on fails with [ErrEmptySet] before anything is written, unless
// [Options.AllowEmpty] says an empty set is meant. A failed pass does not count as
// applied, so the next pass tries the revision again. Errors are [*StageError]s
// naming the stage and the revision, with the file or object in their cause:
//
//	reconcile main@sha1:4c2e…: render: render apps: apps/web.yaml:12: invalid object: invalid YAML: …
//	reconcile main@sha1:4c2e…: apply: apps/Deployment/web/api (apps/web.yaml:1): admission webhook denied …
package reconcile
