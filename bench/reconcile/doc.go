// Package reconcile measures a reconcile pass: the steady state of a GitOps
// controller (a pass over an unchanged repository of 1,000 objects) through
// gitopskit's reconcile and through the same pass built on Flux's fluxcd/pkg/ssa
// manager (a server-side dry-run apply of every object), with the API requests each
// makes; and the time from a commit of a 100-object change to applied and healthy.
package reconcile
