// Package apply measures gitopskit's apply against Flux's server-side apply manager
// (github.com/fluxcd/pkg/ssa ResourceManager.ApplyAllStaged), `kubectl apply
// --server-side` and a raw baseline of parallel server-side apply PATCHes, on 1,000
// objects (ConfigMaps, headless Services and Deployments in 10 namespaces) against one local
// API server from clustertest: a first apply and a no-op re-apply.
//
//	cd bench && go test -run XXX -bench . -benchtime 3x ./apply/
package apply
