package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitopskit/gitopskit/object"
)

// The labels and types that mark a Secret as a cluster's.
const (
	// ArgoCDSecretTypeLabel set to "cluster" marks an Argo CD cluster Secret.
	ArgoCDSecretTypeLabel = "argocd.argoproj.io/secret-type"
	// CAPIClusterNameLabel names the Cluster API cluster of a Secret.
	CAPIClusterNameLabel = "cluster.x-k8s.io/cluster-name"
	// CAPISecretType is the type of Cluster API's secrets.
	CAPISecretType = "cluster.x-k8s.io/secret"
)

// ErrUnsafeCredentials is wrapped by the error of a cluster Secret whose
// credentials would run a program (an exec plugin, an auth provider, Argo CD's
// execProviderConfig or awsAuthConfig) or read a file of this machine: a Secret
// anyone with write access to the namespace can create must not make the
// program run or read anything.
var ErrUnsafeCredentials = errors.New("credentials that run a program or read a file are refused")

// Cluster is a cluster a set can be deployed to.
type Cluster struct {
	// Name identifies the cluster: Argo CD's name field, or the Cluster API
	// cluster's name.
	Name string
	// Labels are the cluster's labels, which targets select on: the Secret's (for
	// Argo CD, whose cluster generator reads them too) and, for a Cluster API
	// cluster, those of its Cluster object, which win.
	Labels map[string]string
	// Config connects to the cluster, allowing 50 requests a second in bursts of
	// 100 as Argo CD does for its clusters (client-go's default, 5 and 10, spaces
	// a pass's requests 200 ms apart); change QPS and Burst to throttle more.
	Config *rest.Config
	// Secret is the Secret the cluster was read from.
	Secret object.ID
	// Warnings say what is less safe than the default, such as TLS verification
	// turned off.
	Warnings []string
}

// clientQPS and clientBurst are the client rate limits of a cluster's Config:
// Argo CD's (ARGOCD_K8S_CLIENT_QPS and ARGOCD_K8S_CLIENT_BURST).
const (
	clientQPS   = 50
	clientBurst = 100
)

var (
	secrets      = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	capiClusters = schema.GroupVersionResource{Group: "cluster.x-k8s.io", Version: "v1beta1", Resource: "clusters"}
)

// ReadClusters reads the clusters registered as Secrets in namespace of the
// management cluster that client talks to: Argo CD's cluster Secrets (labelled
// argocd.argoproj.io/secret-type=cluster) and Cluster API's kubeconfig Secrets
// (named <cluster>-kubeconfig, of type cluster.x-k8s.io/secret). It returns the
// clusters it could read, sorted by name, and an error joining one per Secret it
// could not, naming the Secret and never its credentials.
func ReadClusters(ctx context.Context, client dynamic.Interface, namespace string) ([]Cluster, error) {
	list, err := client.Resource(secrets).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the Secrets of namespace %s: %w", namespace, err)
	}
	var (
		clusters []Cluster
		errs     []error
	)
	for i := range list.Items {
		var s corev1.Secret
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &s); err != nil {
			errs = append(errs, fmt.Errorf("secret/%s -n %s: %w", list.Items[i].GetName(), namespace, err))
			continue
		}
		var (
			c   *Cluster
			err error
		)
		switch {
		case s.Labels[ArgoCDSecretTypeLabel] == "cluster":
			c, err = argoCDCluster(&s)
		case s.Type == CAPISecretType && strings.HasSuffix(s.Name, "-kubeconfig") && s.Labels[CAPIClusterNameLabel] != "":
			c, err = capiCluster(ctx, client, &s)
		default:
			continue
		}
		id := object.ID{Kind: "Secret", Namespace: s.Namespace, Name: s.Name}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id.KubectlString(), err))
			continue
		}
		c.Secret = id
		c.Config.QPS, c.Config.Burst = clientQPS, clientBurst
		clusters = append(clusters, *c)
	}
	slices.SortFunc(clusters, func(a, b Cluster) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(clusters); i++ {
		if clusters[i].Name == clusters[i-1].Name {
			errs = append(errs, fmt.Errorf("cluster %s is registered twice (%s and %s)", clusters[i].Name,
				clusters[i-1].Secret.KubectlString(), clusters[i].Secret.KubectlString()))
		}
	}
	return clusters, errors.Join(errs...)
}

// argoConfig is the part of Argo CD's cluster config this package reads; the
// fields it refuses are kept to be refused by name.
type argoConfig struct {
	Username        string `json:"username"`
	Password        string `json:"password"`
	BearerToken     string `json:"bearerToken"`
	TLSClientConfig struct {
		Insecure   bool   `json:"insecure"`
		ServerName string `json:"serverName"`
		CAData     []byte `json:"caData"`
		CertData   []byte `json:"certData"`
		KeyData    []byte `json:"keyData"`
	} `json:"tlsClientConfig"`
	ProxyURL           string          `json:"proxyUrl"`
	ExecProviderConfig json.RawMessage `json:"execProviderConfig"`
	AWSAuthConfig      json.RawMessage `json:"awsAuthConfig"`
}

// argoCDCluster reads an Argo CD cluster Secret: name, server and config.
func argoCDCluster(s *corev1.Secret) (*Cluster, error) {
	name, server := string(s.Data["name"]), string(s.Data["server"])
	if server == "" {
		return nil, errors.New("no server")
	}
	if name == "" {
		name = server
	}
	var ac argoConfig
	if raw := s.Data["config"]; len(raw) > 0 {
		if err := json.Unmarshal(raw, &ac); err != nil {
			// The message of a JSON error can quote the input, a credential.
			return nil, errors.New("config is not valid JSON")
		}
	}
	switch {
	case len(ac.ExecProviderConfig) > 0 && string(ac.ExecProviderConfig) != "null":
		return nil, fmt.Errorf("config.execProviderConfig: %w", ErrUnsafeCredentials)
	case len(ac.AWSAuthConfig) > 0 && string(ac.AWSAuthConfig) != "null":
		return nil, fmt.Errorf("config.awsAuthConfig: %w", ErrUnsafeCredentials)
	}
	cfg := &rest.Config{
		Host:        server,
		Username:    ac.Username,
		Password:    ac.Password,
		BearerToken: ac.BearerToken,
		TLSClientConfig: rest.TLSClientConfig{
			Insecure:   ac.TLSClientConfig.Insecure,
			ServerName: ac.TLSClientConfig.ServerName,
			CAData:     ac.TLSClientConfig.CAData,
			CertData:   ac.TLSClientConfig.CertData,
			KeyData:    ac.TLSClientConfig.KeyData,
		},
	}
	if ac.ProxyURL != "" {
		u, err := url.Parse(ac.ProxyURL)
		if err != nil {
			return nil, errors.New("config.proxyUrl is not a URL")
		}
		cfg.Proxy = func(*http.Request) (*url.URL, error) { return u, nil }
	}
	c := &Cluster{Name: name, Labels: clusterLabels(s.Labels), Config: cfg}
	if cfg.Insecure {
		c.Warnings = append(c.Warnings, "TLS verification is off (config.tlsClientConfig.insecure)")
	}
	return c, nil
}

// capiCluster reads a Cluster API kubeconfig Secret (the kubeconfig is in
// data.value), with the labels of its Cluster object when the cluster serves
// Cluster API.
func capiCluster(ctx context.Context, client dynamic.Interface, s *corev1.Secret) (*Cluster, error) {
	name := s.Labels[CAPIClusterNameLabel]
	cfg, err := restConfigOf(s.Data["value"])
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: name, Labels: clusterLabels(s.Labels), Config: cfg}
	obj, err := client.Resource(capiClusters).Namespace(s.Namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		maps.Copy(c.Labels, obj.GetLabels())
	case !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err):
		return nil, fmt.Errorf("read cluster %s: %w", name, err)
	}
	if cfg.Insecure {
		c.Warnings = append(c.Warnings, "TLS verification is off (insecure-skip-tls-verify)")
	}
	return c, nil
}

// restConfigOf returns the rest.Config of a kubeconfig's current context, refusing
// what would run a program or read a file.
func restConfigOf(kubeconfig []byte) (*rest.Config, error) {
	if len(kubeconfig) == 0 {
		return nil, errors.New("no kubeconfig in data.value")
	}
	kc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, errors.New("data.value is not a kubeconfig")
	}
	ctxName := kc.CurrentContext
	kctx := kc.Contexts[ctxName]
	if kctx == nil {
		return nil, fmt.Errorf("kubeconfig: current context %q not found", ctxName)
	}
	if cl := kc.Clusters[kctx.Cluster]; cl != nil && cl.CertificateAuthority != "" {
		return nil, fmt.Errorf("kubeconfig: cluster %q: certificate-authority: %w", kctx.Cluster, ErrUnsafeCredentials)
	}
	if ai := kc.AuthInfos[kctx.AuthInfo]; ai != nil {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"exec", ai.Exec != nil},
			{"auth-provider", ai.AuthProvider != nil},
			{"client-certificate", ai.ClientCertificate != ""},
			{"client-key", ai.ClientKey != ""},
			{"tokenFile", ai.TokenFile != ""},
		} {
			if f.set {
				return nil, fmt.Errorf("kubeconfig: user %q: %s: %w", kctx.AuthInfo, f.name, ErrUnsafeCredentials)
			}
		}
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*kc, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}

// clusterLabels returns a Secret's labels without those that only mark it as a
// cluster's.
func clusterLabels(l map[string]string) map[string]string {
	out := maps.Clone(l)
	if out == nil {
		out = map[string]string{}
	}
	delete(out, ArgoCDSecretTypeLabel)
	return out
}
