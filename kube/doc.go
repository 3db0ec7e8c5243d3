// Package kube builds, from one rest.Config, the client-go clients that
// gitopskit's packages share ([Clients]): a dynamic client, a metadata client, a
// discovery client and a RESTMapper. Every package's NewForConfig builds them with
// [NewForConfig]; a program that uses several packages builds them once and passes
// them to each package's New, so that one connection pool and one discovery cache
// serve every stage.
//
// A controller built on controller-runtime passes its manager's HTTP client and
// RESTMapper in [Options], without this package importing controller-runtime.
//
// The [Mapper] it builds by default discovers kinds lazily, caches them in
// memory, reads discovery again when asked for a kind it does not know (a CRD
// applied since, at most once a second), and can be reset.
package kube
