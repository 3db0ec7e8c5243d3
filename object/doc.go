// Package object is the vocabulary every other gitopskit package shares: the
// identity of a Kubernetes object, sets of identities, a stable order, and the
// decoding of multi-document YAML and JSON streams into objects that remember the
// file and line they came from.
//
// Objects are *unstructured.Unstructured, the common currency of client-go's dynamic
// client, Flux and Argo CD. An [ID] names an object independently of its API
// version: group, kind, namespace and name, printed as "group/Kind/namespace/name"
// with empty fields kept ("/ConfigMap/default/app", "/Namespace//prod").
//
// [Decode] is written for input nobody vetted: every error names the file and line,
// documents and streams have size and count limits, YAML alias bombs and duplicate
// keys are rejected, and it never panics (a fuzz target checks that).
//
// The package does not talk to a cluster.
package object
