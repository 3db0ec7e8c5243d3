// Package live keeps the live state of a cluster in memory, fed by watches, so
// that a steady-state pass reads it without a request and a change to a watched
// object is an event, not something the next poll finds.
//
// A [Cache] is shared by every set of one cluster: the first request for a
// resource in a namespace lists it and starts a watch, later requests read
// memory. [Cache.OnChange] reports each object added, changed or deleted after
// that, so a controller can wake the set that owns it (reconcile.ClusterOptions.Live
// does this for a reconcile.Cluster, see Cluster.Drifted). client-go's reflector
// lists again after a watch expires or the API server restarts.
//
// # Bounded memory
//
// Only the objects a set asked for with [Cache.Objects] are held whole, until
// [Cache.Release]; every other object of a watched resource and namespace is held
// as its metadata, which is what [Cache.List] returns (as Argo CD's cluster cache
// keeps only a small record of the resources no application manages). An object
// no set wants costs the JSON of its name, namespace, uid, resourceVersion,
// generation, labels, annotations, ownerReferences, finalizers and timestamps:
// about 300 bytes for a ConfigMap with a label and an annotation, whatever its
// data (kubectl's last-applied-configuration annotation, a copy of the whole
// object, is dropped). A wanted object costs its whole JSON and that metadata
// again. [Cache.Stats] reports both, counts and bytes. An object asked for while
// held as metadata is read once with a GET; the watch keeps it whole after that.
package live
