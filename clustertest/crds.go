package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gitopskit/gitopskit/object"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// fieldManager is the field manager clustertest applies CRDs with.
const fieldManager = "clustertest"

// readCRDs reads the CustomResourceDefinitions of the manifest files in dirs.
func readCRDs(dirs []string) ([]object.Manifest, error) {
	var crds []object.Manifest
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("CRD directory: %w", err)
		}
		found := 0
		for _, e := range entries {
			switch filepath.Ext(e.Name()) {
			case ".yaml", ".yml", ".json":
			default:
				continue
			}
			if e.IsDir() {
				continue
			}
			ms, err := decodeFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				if gk := m.Object.GroupVersionKind().GroupKind(); gk.Group == crdResource.Group && gk.Kind == "CustomResourceDefinition" {
					crds = append(crds, m)
					found++
				}
			}
		}
		if found == 0 {
			return nil, fmt.Errorf("CRD directory %s holds no CustomResourceDefinition in a .yaml, .yml or .json file", dir)
		}
	}
	return crds, nil
}

func decodeFile(path string) ([]object.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return object.Decode(f, path)
}

// installCRDs applies crds (server-side, forcing conflicts, so that a CRD another
// manager installed on an existing cluster is taken over) and waits until each is
// Established.
func installCRDs(ctx context.Context, cfg *rest.Config, crds []object.Manifest) error {
	if len(crds) == 0 {
		return nil
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	client := dyn.Resource(crdResource)
	for _, m := range crds {
		if _, err := client.Apply(ctx, m.Object.GetName(), m.Object, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
			return fmt.Errorf("apply CRD %s (%s): %w", m.Object.GetName(), m.Origin, err)
		}
	}
	for _, m := range crds {
		var crd *unstructured.Unstructured
		err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			var err error
			crd, err = client.Get(ctx, m.Object.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return established(crd), nil
		})
		if err != nil {
			return fmt.Errorf("wait for CRD %s (%s) to be Established: %w", m.Object.GetName(), m.Origin, err)
		}
		// Established can come a moment before the resource is served; envtest waits
		// for discovery too, and tests create custom resources right after the start.
		if err := waitServed(ctx, cfg, crd); err != nil {
			return fmt.Errorf("wait for CRD %s (%s) to be served: %w", m.Object.GetName(), m.Origin, err)
		}
	}
	return nil
}

// waitServed waits until discovery lists the CRD's resource in every served version.
func waitServed(ctx context.Context, cfg *rest.Config, crd *unstructured.Unstructured) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		v, _ := v.(map[string]any)
		if served, _ := v["served"].(bool); !served {
			continue
		}
		name, _ := v["name"].(string)
		var last error
		err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			data, err := dc.RESTClient().Get().AbsPath("/apis", group, name).Do(ctx).Raw()
			if err != nil {
				last = err // 404 until the group version is served
				return false, nil
			}
			var list metav1.APIResourceList
			if err := json.Unmarshal(data, &list); err != nil {
				return false, err
			}
			for _, r := range list.APIResources {
				if r.Name == plural {
					return true, nil
				}
			}
			last = fmt.Errorf("discovery does not list %s yet", plural)
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("%s/%s %s: %w (last: %v)", group, name, plural, err, last)
		}
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
