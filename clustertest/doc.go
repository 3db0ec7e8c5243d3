// Package clustertest runs a real, local Kubernetes control plane for tests: the
// upstream kube-apiserver and etcd on loopback, and on request the
// kube-controller-manager, kube-scheduler and kwok with fake nodes, so Deployments
// roll out, Jobs finish and Namespaces terminate as in a real cluster.
//
// It is for gitopskit's own tests and for its users'. Behaviour that involves the API
// server (server-side apply, dry-run, managedFields, admission, watches) only means
// something against the real one, so nothing here is faked.
//
// A package shares one cluster between its tests and gives each test a fresh
// namespace:
//
//	var cluster = clustertest.New(clustertest.Options{})
//
//	func TestMain(m *testing.M) { cluster.Run(m) }
//
//	func TestApply(t *testing.T) {
//		cfg := cluster.Config(t)
//		ns := cluster.NewNamespace(t)
//		...
//	}
//
// The cluster starts on first use, so tests that do not need it cost nothing, and
// stops when the package's tests end, also when a test fails or panics (its processes
// are tied to the test process and die with it).
//
// The binaries are built from the Go module proxy, once per machine, by a command
// run from any module that requires gitopskit:
//
//	go run github.com/gitopskit/gitopskit/clustertest/setup
//
// It builds them for the gitopskit version the module requires into a cache shared
// by every module (~/.cache/gitopskit, or GITOPSKIT_CACHE_DIR), and clustertest finds
// them there. [Options.BinDir] or the environment variable GITOPSKIT_CONTROLPLANE_DIR
// names another directory. When no binaries are found, [Start] returns an error
// wrapping [ErrBinariesMissing] that names the command, and [Cluster.Config] skips the
// test, or fails it when CI=true.
//
// With GITOPSKIT_USE_EXISTING_CLUSTER=true (or [Options.UseExistingCluster]) the
// same tests run against the cluster of the current kubeconfig instead, as with
// envtest's USE_EXISTING_CLUSTER. [Options.CRDDirs] installs a project's CRDs when the
// cluster starts, and a failing test gets the end of what the control plane logged
// while it ran.
package clustertest
