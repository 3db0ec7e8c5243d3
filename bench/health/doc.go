// Package health measures gitopskit's health package against kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus/status), the library a Go user would otherwise
// pick: assessing 10,000 objects of mixed kinds and statuses, with and without CEL
// rules, and the API requests of waiting for 1,000 objects in a real cluster.
//
// gitops-engine's health package, which needs Go 1.27, is compared on the same
// objects in the module bench/gitopsengine (see README.md).
package health
