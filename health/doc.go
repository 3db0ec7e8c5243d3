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
// *unstructured.Unstructured, without converting it to a typed struct. The built-in
// rules follow what each kind's controller writes: the Deployment, StatefulSet
// (partitioned and OnDelete updates), DaemonSet and ReplicaSet controllers' replica
// counts and observedGeneration, the Deployment's progress deadline and pause, the
// kubelet's container states (CrashLoopBackOff, ImagePullBackOff, init containers,
// the restart policy), Job and CronJob conditions and suspension, claims, load
// balancer Services, Ingresses, autoscalers, disruption budgets, CRDs (Established,
// NamesAccepted), APIServices and terminating Namespaces. Any other kind follows the
// kstatus conventions that controller authors use: observedGeneration, spec.suspend,
// and the Stalled, Reconciling and Ready conditions (see the generic rule's
// description in generic.go). An object that reports no status is Healthy once it
// exists.
//
// An [Assessor] adds custom rules per group and kind, in Go ([Rule]) or in CEL
// ([CELRule]), the expression language the API server uses for validation rules.
// CEL rules are compiled and type-checked once by [NewAssessor], so a broken rule is
// an error when it is loaded, not when an object is assessed; each evaluation is
// bounded by a cost limit.
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
// the wait in the shape of apply's wave gate.
package health
