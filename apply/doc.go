// Package apply applies sets of Kubernetes objects with server-side apply, in a safe
// order, records them in an inventory and prunes what left the set.
//
// A [Manager] (built with [NewForConfig] from a rest.Config, or [New] from clients) applies under
// one field manager. [Manager.Apply] takes the whole desired set:
//
//   - Order: objects go in stages by kind (namespaces, CRDs, cluster-scoped
//     configuration, namespaced configuration, workloads, webhooks), within a stage
//     by wave (`gitopskit.io/wave`, or Argo CD's `argocd.argoproj.io/sync-wave`), and
//     after the objects they depend on (`gitopskit.io/depends-on`, or cli-utils'
//     `config.kubernetes.io/depends-on`). [Order] shows the batches without a cluster.
//     After CRDs, Apply waits until they are Established and resets the RESTMapper,
//     so custom resources can come in the same set.
//   - Safety: conflicts with other field managers fail with a [*ConflictError]
//     unless forced; changes to immutable fields fail with an [*ImmutableError]
//     unless recreating is allowed; objects of another inventory fail with an
//     [*OwnershipError]; a dry run writes nothing.
//   - Speed: Apply lists each (resource, namespace) of the set once and skips the
//     write for objects whose live state already holds every desired value and whose
//     applied fields are exactly the desired ones, so re-applying an unchanged set
//     costs a few lists instead of a request per object.
//   - Inventory and prune: with an [Inventory] ([ApplySet], KEP-3659, by default,
//     compatible with `kubectl apply --prune --applyset`), members that left the set
//     are deleted in reverse order, never after a failure, never when they lack the
//     membership label, were never applied by the field manager (a copied label) or
//     are annotated `gitopskit.io/prune: disabled` (or Flux's
//     `kustomize.toolkit.fluxcd.io/prune: disabled`), and an empty set is refused
//     with [ErrEmptySet] unless allowed. A Namespace or CustomResourceDefinition
//     that still holds objects not pruned with it is kept and reported, unless
//     [ApplyOptions.AllowPruneInUse]. Objects are compared as the cluster names
//     them: a cluster-scoped object declared with a namespace has none.
//   - Results: every object gets an [Event] (created, configured, unchanged,
//     recreated, pruned, skipped, failed), streamed through
//     [ApplyOptions.OnEvent] and returned in the [Result].
//   - Hooks: with [ApplyOptions.Hooks], Argo CD's resource hooks
//     (`argocd.argoproj.io/hook`) and Helm's chart hooks (`helm.sh/hook`) are not
//     members: they run in phases around the apply (PreSync, Sync, PostSync,
//     SyncFail; PreDelete and PostDelete around the prune of an empty set), by
//     weight, with their delete policies, and are never recorded in the inventory
//     ([ParseHook] reads their annotations, [Result.Hooks] sums up what they did).
//
// Health is not decided here: [ApplyOptions.WaveGate] is called between batches,
// [ApplyOptions.HookGate] tells when a hook is done, and the health package
// provides both (health.Waiter.Gate).
package apply
