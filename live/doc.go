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
package live
