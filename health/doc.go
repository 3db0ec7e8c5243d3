// Package health tells the health of Kubernetes objects and waits for a set of them
// to become healthy.
//
// # The status model
//
// Every object gets a [Status]: a [Code] and a message a person understands, such as
// "waiting for rollout: 2 of 3 replicas updated" or "Job failed: BackoffLimitExceeded".
// The codes are:
//
//   - [Healthy]: the controller observed the latest spec and the object does what it
//     declares.
//   - [Progressing]: on its way to Healthy (a rollout, a pending claim, a controller
//     that has not yet observed the latest generation, an object being deleted).
//   - [Degraded]: failed, or will not get better by itself.
//   - [Suspended]: told to stand still (a paused Deployment, a suspended Job).
//   - [Missing]: not in the cluster.
//   - [Unknown]: cannot be told.
//
// A wait is over for an object that is Healthy or Suspended ([Code.Done]): a
// suspended object does not change by itself, so waiting for it would only time out.
// The status of a set is its worst code ([Worst], [Aggregate]), in the order Degraded,
// Missing, Unknown, Progressing, Suspended, Healthy.
//
// # Rules
//
// [Assess] reads the object as it came from the API server, an
// *unstructured.Unstructured, without converting it to a typed struct. For each
// object the first rule that decides wins (see [Assessor]): an object being deleted
// is Progressing; then the caller's rules; then, for a custom resource whose
// controller is expected to write a status and has not yet, Progressing; then the
// rule library, the built-in rule of the kind, and the generic conventions.
//
// The built-in rules follow what each kind's controller writes: the Deployment,
// StatefulSet (partitioned and OnDelete updates, scale-down), DaemonSet and
// ReplicaSet controllers' replica counts and observedGeneration, the Deployment's
// progress deadline and pause, the kubelet's container states (CrashLoopBackOff,
// ImagePullBackOff, restarts after a failure, init containers, the restart policy),
// Job and CronJob conditions and suspension, claims, load balancer Services,
// Ingresses, autoscalers, disruption budgets, CRDs (Established, NamesAccepted),
// APIServices and terminating Namespaces. Any other kind follows the kstatus
// conventions that controller authors use: observedGeneration, spec.suspend, and
// the Stalled, Reconciling and Ready conditions, then the status.phase convention
// (see the generic rule's description in generic.go).
//
// The rule library ([LibraryRules]) holds CEL rules for the custom resources GitOps
// users run most (cert-manager, Flux, Argo, Crossplane, KEDA, External Secrets,
// Knative, Istio, the Prometheus Operator, Strimzi, Cluster API, Tekton and more),
// each written from the project's documented status semantics. It is on by
// default; [Options] turn it off, leave rules out or replace them.
//
// An [Assessor] adds custom rules per group (or group pattern) and kind, in Go
// ([Rule]) or in CEL ([CELRule]), the expression language the API server uses for
// validation rules, with the API server's functions. CEL rules are compiled and
// type-checked once by [NewAssessor], so a broken rule is an error when it is
// loaded, not when an object is assessed; each evaluation is bounded by a cost
// limit, and an evaluation error names the rule and the expression that failed.
//
// # Waiting
//
// A [Waiter] waits for a set of objects, given by their [object.ID]s, until all are
// done, one is Degraded (with [WaitOptions.FailFast]) or a timeout passes. It is
// driven by watches: one list+watch per resource type for the whole set (per
// namespace with [WaitOptions.PerNamespace], for namespace-restricted RBAC), never
// one per object and never polling. A type whose objects live in one namespace is
// watched in that namespace only, and a type with a single object with a field
// selector on its name. Objects that do not exist or are deleted while waiting are
// Missing. [WaitOptions.Progress] receives every transition. [Waiter.Gate] returns
// the wait in the shape of apply's wave gate. The Waiter reads a custom kind's CRD
// once, to know whether its objects get a status from a controller (a status
// subresource), and reassesses an object when its [Options.StatusGracePeriod] ends.
package health
