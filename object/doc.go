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
// documents and streams have size and count limits, YAML alias bombs are rejected,
// and it never panics (a fuzz target checks that). By default it is strict, for
// files people write: a duplicate key, or a label value that is not a string, is
// an error at the line it was made. [Decoder].Lenient reads a program's output
// (a chart's rendered templates) as Helm and kubectl read it instead: the last of
// duplicate keys wins, label and annotation values become strings as written, and
// documents declaring nothing are skipped. Both accept objects named by
// metadata.generateName, such as hook Jobs, and both refuse what kubectl's readers
// would change without a word: two keys that become one JSON key (1 and "1"),
// integers beyond int64, and an apiVersion, kind, name or namespace that YAML reads
// as a boolean or number (`name: y`), each naming the field.
//
// YAML is read as sigs.k8s.io/yaml reads it for kubectl (go-yaml v2, YAML 1.1,
// then JSON: integers are int64, other numbers float64). Documents in the
// block style manifests and templates are written in are read straight into
// objects by a reader of that subset, several times faster; any other document,
// and any that may hold an error, takes the go-yaml path, so results and errors
// are the same either way (a fuzz target compares the two).
//
// The package does not talk to a cluster.
package object
