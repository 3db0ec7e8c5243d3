// Package fleet deploys one set to many clusters, as Rancher Fleet does from one
// repository: it reads the clusters registered in a management cluster
// ([ReadClusters]: Argo CD's cluster Secrets and Cluster API's kubeconfig
// Secrets, with their labels), chooses the targets of a set by label selector
// with a customization per target ([Spec]: a directory, a namespace, variables,
// Helm values, as Fleet's targetCustomizations), and reconciles a commit into
// every target at once ([NewGroup]), with bounded concurrency and a result per
// cluster, so that one cluster that is down or refuses holds back only its own.
//
// A cluster Secret is input anyone who may write Secrets in the namespace
// controls, so credentials that would run a program (exec plugins, auth
// providers, Argo CD's execProviderConfig and awsAuthConfig) or read a file of
// this machine are refused ([ErrUnsafeCredentials]), and errors name the Secret,
// never its credentials.
package fleet
