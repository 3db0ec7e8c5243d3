package snippets

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
)

// snippet: clustertest-test
func TestServerSideApply(t *testing.T) {
	cfg := cluster.Config(t)      // starts the cluster on first use; skips without binaries (fails when CI=true)
	ns := cluster.NewNamespace(t) // a fresh namespace, deleted when the test ends
	cms := dynamic.NewForConfigOrDie(cfg).Resource(configMaps).Namespace(ns)

	cm := mustYAML("{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {color: blue}}")
	_, err := cms.Apply(context.Background(), "settings", cm, metav1.ApplyOptions{FieldManager: "my-tool"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Real managedFields, as only a real API server writes them.
	if mf := got.GetManagedFields(); len(mf) != 1 || mf[0].Manager != "my-tool" {
		t.Errorf("managedFields = %+v", mf)
	}
}

// end snippet
