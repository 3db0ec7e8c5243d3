// Package diff tells what a server-side apply of a desired set would change in a
// cluster, without changing it.
//
// The diff is three-way, as server-side apply sees it: the desired object, the live
// object, and the fields our field manager owned at its last apply (read from live's
// managedFields). A field we stopped declaring is a removal; a field another manager
// owns and we never declared (an HPA's spec.replicas, a label a controller adds) is
// kept by the apply and so is not drift, unless [Options.ReportForeign] says so.
//
// An [Engine] predicts the object an apply would leave:
//
//   - [Server] sends a dry-run apply to the API server. It is the ground truth:
//     defaulting, admission and conversion are the server's own.
//   - [Offline] merges locally with structured-merge-diff, the library the API server
//     uses, typed by the cluster's OpenAPI v3 schemas ([ClusterSchemas], cached per
//     group-version, CRDs included) or by schemas the caller supplies
//     ([StaticSchemas]). It makes no request per object, so it is the fast path for
//     drift detection of large sets. Without a cluster it types built-in kinds by
//     the schemas of Kubernetes v1.37.2 shipped with the package, and custom
//     resources by the CRD manifests of the set; [Change.Typing] says which schema
//     typed each object. Kinds without any schema are merged with deduced types
//     (lists atomic) and the change carries a warning.
//
// The prediction is that of the apply package's apply, which does more than one
// server-side apply: it first hands the fields of kubectl's client-side apply to
// our field manager ([Options.CSAManagers]), may recreate an object whose
// immutable fields change ([Options.Recreate]), and applies a set's namespaces
// before the objects in them (such an object is predicted as declared). Errors name
// the object and, with [Input.Origins], its file and line.
//
// A [Differ] compares the prediction with live after normalizing both: metadata the
// server populates (managedFields, resourceVersion, uid, creationTimestamp,
// generation, selfLink), kubectl's last-applied annotation and status are ignored;
// nulls and empty maps and lists equal absent fields; quantities of built-in kinds
// compare by their canonical form ("1000m" equals "1" and the number 1) and so do
// numbers and int-or-string fields (80 and "80"); [IgnoreRule]s remove fields by JSON pointer or JSONPath, selected
// by group, kind, namespace and name, like Argo CD's ignoreDifferences.
//
// [Differ.Plan] diffs a whole set, adds prune candidates from the inventory, and
// renders as unified text like kubectl diff ([Plan.WriteText]) or JSON for CI
// ([Plan.WriteJSON]), in a deterministic order.
//
// Secret values never leave the package in clear through a renderer or an error:
// data and stringData values are shown as "++++++++ (hmac:…)", a placeholder keyed
// by a random per-Plan key, so equal values look equal and a changed value looks
// different while a short password cannot be recovered by guessing. [Change.Live]
// and [Change.Predicted] are the exception: they hold the values, for callers that
// need them, and must not be printed.
package diff
