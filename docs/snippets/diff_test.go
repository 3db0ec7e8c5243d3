package snippets

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
)

func mustYAML(s string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
		panic(err)
	}
	return u
}

// snippet: diff-cluster
// Preview writes what applying desired would change in the cluster of cfg, and
// returns the plan. live holds the cluster's copies of the objects that exist.
func Preview(ctx context.Context, cfg *rest.Config, desired, live []*unstructured.Unstructured, server bool, w io.Writer) (*diff.Plan, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	// The fast path: no request per object, typed by the cluster's OpenAPI schemas;
	// the mapper and client let it check namespaces as the API server would.
	var engine diff.Engine = diff.NewOffline(diff.NewClusterSchemas(dc.OpenAPIV3()), diff.OfflineOptions{Mapper: mapper, Client: dyn})
	if server {
		// The ground truth: a dry-run apply per object (admission and defaulting included).
		engine = diff.NewServer(dyn, mapper)
	}
	d, err := diff.New(engine, diff.Options{
		FieldManager: "my-tool", // whose last apply is the third side of the diff
		Ignore: []diff.IgnoreRule{{ // like Argo CD's ignoreDifferences
			Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"},
		}},
	})
	if err != nil {
		return nil, err
	}
	plan, err := d.Plan(ctx, diff.Input{Desired: desired, Live: live})
	if err != nil {
		return plan, err // plan.Failed names each object that could not be diffed
	}
	return plan, plan.WriteText(w, diff.TextOptions{})
}

// end snippet

func TestPreview(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	ctx := context.Background()
	m, err := apply.NewForConfig(cfg, apply.Options{FieldManager: "my-tool"})
	if err != nil {
		t.Fatal(err)
	}
	first := mustYAML("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns + "}\ndata: {color: blue, size: large}\n")
	if _, err := m.Apply(ctx, []*unstructured.Unstructured{first}, apply.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	live, err := dynamic.NewForConfigOrDie(cfg).Resource(configMaps).Namespace(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	desired := mustYAML("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns + "}\ndata: {color: green}\n")
	for _, server := range []bool{false, true} {
		var out bytes.Buffer
		plan, err := Preview(ctx, cfg, []*unstructured.Unstructured{desired}, []*unstructured.Unstructured{live}, server, &out)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(plan.Changes[0].Action, plan.Changes[0].Paths); got != "Update [.data.color .data.size]" {
			t.Errorf("server=%v: %s, want an update of color and the removal of size\n%s", server, got, out.String())
		}
		if !strings.Contains(out.String(), "-  size: large") {
			t.Errorf("server=%v: the diff does not show the removal:\n%s", server, out.String())
		}
	}
}

func Example_diffOffline() {
	// snippet: diff-offline
	// live as read from the cluster: our manager ("my-tool") applied color, size and
	// password; a person set owner with kubectl edit.
	live := mustYAML(`
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  managedFields:
  - {manager: my-tool, operation: Apply, apiVersion: v1, fieldsType: FieldsV1,
     fieldsV1: {"f:data": {"f:color": {}, "f:size": {}, "f:password": {}}}}
  - {manager: kubectl-edit, operation: Update, apiVersion: v1, fieldsType: FieldsV1,
     fieldsV1: {"f:data": {"f:owner": {}}}}
data: {color: Ymx1ZQ==, size: bGFyZ2U=, password: aHVudGVyMg==, owner: dGVhbS1h}
`)
	desired := mustYAML(`
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
data: {color: Z3JlZW4=, password: aHVudGVyMw==}
`)
	// No cluster: built-in kinds are typed by the schemas of the Kubernetes version
	// shipped with gitopskit, custom resources by the CRD manifests in the set.
	engine := diff.NewOffline(nil, diff.OfflineOptions{})
	d, err := diff.New(engine, diff.Options{FieldManager: "my-tool", MaskKey: []byte("docs")})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := d.Plan(context.Background(), diff.Input{
		Desired: []*unstructured.Unstructured{desired},
		Live:    []*unstructured.Unstructured{live},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := plan.Changes[0]
	fmt.Println(c.Action, c.Paths, "not drift:", c.Foreign, "typing:", c.Typing)
	_ = plan.WriteText(os.Stdout, diff.TextOptions{Context: 1}) // Secret values masked
	// end snippet

	// Output:
	// Update [.data.color .data.password .data.size] not drift: [.data.owner] typing: built-in
	// --- live//Secret/shop/db
	// +++ predicted//Secret/shop/db
	// @@ -2,6 +2,5 @@
	//  data:
	// -  color: ++++++++ (hmac:d32f2c3e6627)
	// +  color: ++++++++ (hmac:f7d56ac23aa4)
	//    owner: ++++++++ (hmac:aa5b18f26a5a)
	// -  password: ++++++++ (hmac:ba630710a857)
	// -  size: ++++++++ (hmac:616105f5ed69)
	// +  password: ++++++++ (hmac:a45a58236a7c)
	//  kind: Secret
}
