package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitopskit/gitopskit/clustertest"
	"github.com/gitopskit/gitopskit/fleet"
	"github.com/gitopskit/gitopskit/internal/testtool"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/source"
)

var cluster = clustertest.New(clustertest.Options{})

func TestMain(m *testing.M) { cluster.Run(m) }

// registry writes cluster Secrets into a namespace of the management cluster.
type registry struct {
	t  *testing.T
	ns string
	kc kubernetes.Interface
}

func newRegistry(t *testing.T) *registry {
	return &registry{t: t, ns: cluster.NewNamespace(t), kc: kubernetes.NewForConfigOrDie(cluster.Config(t))}
}

func (r *registry) put(s *corev1.Secret) {
	r.t.Helper()
	s.Namespace = r.ns
	if _, err := r.kc.CoreV1().Secrets(r.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		r.t.Fatal(err)
	}
}

// argoCD registers cfg as Argo CD does.
func (r *registry) argoCD(name string, cfg *rest.Config, labels map[string]string, extra map[string]any) {
	conf := map[string]any{"bearerToken": cfg.BearerToken, "tlsClientConfig": map[string]any{"caData": cfg.CAData}}
	for k, v := range extra {
		conf[k] = v
	}
	b, err := json.Marshal(conf)
	if err != nil {
		r.t.Fatal(err)
	}
	l := map[string]string{fleet.ArgoCDSecretTypeLabel: "cluster"}
	for k, v := range labels {
		l[k] = v
	}
	r.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + name, Labels: l},
		Data: map[string][]byte{"name": []byte(name), "server": []byte(cfg.Host), "config": b}})
}

// capi registers cfg as Cluster API does, with the kubeconfig changed by edit.
func (r *registry) capi(name string, cfg *rest.Config, labels map[string]string, edit func(*clientcmdapi.AuthInfo)) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	user := &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	if edit != nil {
		edit(user)
	}
	kc.AuthInfos[name+"-admin"] = user
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name + "-admin"}
	kc.CurrentContext = name
	b, err := clientcmd.Write(*kc)
	if err != nil {
		r.t.Fatal(err)
	}
	l := map[string]string{fleet.CAPIClusterNameLabel: name}
	for k, v := range labels {
		l[k] = v
	}
	r.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-kubeconfig", Labels: l}, Type: fleet.CAPISecretType,
		Data: map[string][]byte{"value": b}})
}

func (r *registry) read() ([]fleet.Cluster, error) {
	return fleet.ReadClusters(context.Background(), dynamic.NewForConfigOrDie(cluster.Config(r.t)), r.ns)
}

func TestReadClustersOfArgoCDAndClusterAPI(t *testing.T) {
	r := newRegistry(t)
	a, b := cluster.NewAPIServer(t), cluster.NewAPIServer(t)
	r.argoCD("eu-1", a.RESTConfig(), map[string]string{"env": "prod"}, nil)
	r.capi("us-1", b.RESTConfig(), map[string]string{"env": "staging"}, nil)
	r.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unrelated"}, Data: map[string][]byte{"server": []byte("https://x")}})

	clusters, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range clusters {
		names = append(names, c.Name+" "+c.Labels["env"]+" "+c.Secret.Name)
		// Each Config reaches its own API server.
		if _, err := kubernetes.NewForConfigOrDie(c.Config).CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if _, marked := c.Labels[fleet.ArgoCDSecretTypeLabel]; marked {
			t.Errorf("%s: the Argo CD marker is a label of the cluster", c.Name)
		}
	}
	if want := []string{"eu-1 prod cluster-eu-1", "us-1 staging us-1-kubeconfig"}; !slices.Equal(names, want) {
		t.Fatalf("clusters %q, want %q", names, want)
	}
}

// A cluster Secret is written by whoever may write Secrets in the namespace: what
// would run a program or read a file here is refused, naming the Secret and never
// a credential; the good Secrets are still read.
func TestReadClustersRefusesUnsafeCredentials(t *testing.T) {
	r := newRegistry(t)
	good := cluster.NewAPIServer(t).RESTConfig()
	secret := "s3cr3t-" + strings.Repeat("x", 8)
	bad := rest.CopyConfig(good)
	bad.BearerToken = secret
	r.argoCD("good", good, nil, nil)
	r.argoCD("exec", bad, nil, map[string]any{"execProviderConfig": map[string]any{"command": "/bin/sh", "args": []string{"-c", "touch /tmp/pwned"}}})
	r.argoCD("aws", bad, nil, map[string]any{"awsAuthConfig": map[string]any{"clusterName": "x"}})
	r.capi("plugin", bad, nil, func(u *clientcmdapi.AuthInfo) {
		u.Exec = &clientcmdapi.ExecConfig{Command: "/bin/sh", APIVersion: "client.authentication.k8s.io/v1"}
	})
	r.capi("tokenfile", bad, nil, func(u *clientcmdapi.AuthInfo) { u.TokenFile = "/etc/shadow" })
	r.capi("certfile", bad, nil, func(u *clientcmdapi.AuthInfo) { u.ClientCertificate = "/etc/ssl/private/key.pem" })
	r.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "broken", Labels: map[string]string{fleet.ArgoCDSecretTypeLabel: "cluster"}},
		Data: map[string][]byte{"server": []byte("https://x"), "config": []byte(`{"password": "` + secret + `"`)}})

	clusters, err := r.read()
	if len(clusters) != 1 || clusters[0].Name != "good" {
		t.Fatalf("clusters %v", clusters)
	}
	if !errors.Is(err, fleet.ErrUnsafeCredentials) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"secret/cluster-exec -n " + r.ns + ": config.execProviderConfig: credentials that run a program",
		"secret/cluster-aws -n " + r.ns + ": config.awsAuthConfig:",
		"secret/plugin-kubeconfig -n " + r.ns + `: kubeconfig: user "plugin-admin": exec:`,
		`secret/tokenfile-kubeconfig -n ` + r.ns + `: kubeconfig: user "tokenfile-admin": tokenFile:`,
		`secret/certfile-kubeconfig -n ` + r.ns + `: kubeconfig: user "certfile-admin": client-certificate:`,
		"secret/broken -n " + r.ns + ": config is not valid JSON",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("a credential is in the error: %v", err)
	}
	if _, statErr := os.Stat("/tmp/pwned"); statErr == nil {
		t.Fatal("the exec plugin ran")
	}
}

// One commit to every target: three API servers registered in two formats and
// one that is down. The set goes to the clusters the targets select, each with
// its customization; the one that is down fails alone.
func TestOneCommitToEveryTarget(t *testing.T) {
	r := newRegistry(t)
	prod, staging, dev := cluster.NewAPIServer(t), cluster.NewAPIServer(t), cluster.NewAPIServer(t)
	down := cluster.NewAPIServer(t)
	r.argoCD("prod-eu", prod.RESTConfig(), map[string]string{"env": "prod"}, nil)
	r.capi("staging-us", staging.RESTConfig(), map[string]string{"env": "staging"}, nil)
	r.capi("dev", dev.RESTConfig(), map[string]string{"env": "dev"}, nil)
	r.argoCD("prod-down", down.RESTConfig(), map[string]string{"env": "prod"}, nil)
	down.Stop()

	dir := t.TempDir()
	testtool.WriteFiles(t, dir, map[string]string{
		"app/settings.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {replicas: \"${replicas:=1}\", tier: base}\n",
		"app-staging/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {replicas: \"1\", tier: staging}\n",
	})

	clusters, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	spec := fleet.Spec{
		Targets: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod", "staging"}}}}},
		Customizations: []fleet.Customization{
			{Name: "prod", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}, Namespace: "shop-prod", Vars: map[string]string{"replicas": "3"}},
			{Name: "staging", ClusterSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "staging"}}, Namespace: "shop-staging", Path: "app-staging"},
		},
	}
	targets, err := spec.Select(clusters)
	if err != nil {
		t.Fatal(err)
	}
	base := reconcile.Options{Path: "app", Prune: true, Wait: true, HealthTimeout: time.Minute, CreateNamespace: true,
		Cluster: reconcile.ClusterOptions{FieldManager: "fleet-test"}}
	g, err := fleet.NewGroup(targets, func(tg fleet.Target) (reconcile.Runner, error) {
		opts := tg.Options(base)
		opts.Cluster.Inventory = object.ID{Kind: "Secret", Namespace: opts.Cluster.Namespace, Name: "app"}
		return reconcile.NewForConfig(tg.Cluster.Config, reconcile.Stages{Source: source.Local{Dir: dir}}, opts)
	}, reconcile.GroupOptions{Concurrency: 4, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	results, err := g.Reconcile(context.Background())
	t.Logf("%d targets in %v", len(results), time.Since(start).Round(time.Millisecond))
	got := map[string]string{}
	for _, res := range results {
		if res.Ready() {
			got[res.Name] = "ready"
			t.Logf("%-10s ready: applied %v in %v", res.Name, res.Result.Applied(), res.Duration.Round(time.Millisecond))
		} else {
			got[res.Name] = "failed"
			t.Logf("%-10s failed in %v: %v", res.Name, res.Duration.Round(time.Millisecond), res.Err)
		}
	}
	if want := map[string]string{"prod-eu": "ready", "staging-us": "ready", "prod-down": "failed"}; !maps.Equal(got, want) {
		t.Fatalf("results %v, want %v (dev is not a target)", got, want)
	}
	if err == nil || !strings.Contains(err.Error(), "set prod-down:") {
		t.Fatalf("err = %v", err)
	}
	check := func(cfg *rest.Config, ns, replicas, tier string) {
		t.Helper()
		cm, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(ns).Get(context.Background(), "settings", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["replicas"] != replicas || cm.Data["tier"] != tier {
			t.Fatalf("%s/settings: %v", ns, cm.Data)
		}
	}
	check(prod.RESTConfig(), "shop-prod", "3", "base")
	check(staging.RESTConfig(), "shop-staging", "1", "staging")
	if nss, err := kubernetes.NewForConfigOrDie(dev.RESTConfig()).CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); err != nil || slices.ContainsFunc(nss.Items, func(n corev1.Namespace) bool { return strings.HasPrefix(n.Name, "shop-") }) {
		t.Fatalf("dev is not a target, yet: %v", err)
	}
}
