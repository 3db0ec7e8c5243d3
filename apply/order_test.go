package apply

import (
	"errors"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(apiVersion, kind, ns, name string, ann map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetAnnotations(ann)
	return u
}

func batchNames(t *testing.T, objs ...*unstructured.Unstructured) [][]string {
	t.Helper()
	batches, err := Order(objs)
	require.NoError(t, err)
	var out [][]string
	for _, b := range batches {
		var names []string
		for _, o := range b.Objects {
			names = append(names, o.GetName())
		}
		out = append(out, names)
	}
	return out
}

func TestOrderStagesWavesAndDependencies(t *testing.T) {
	got := batchNames(t,
		obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", "hook", nil),
		obj("apps/v1", "Deployment", "ns", "web", nil),
		obj("v1", "ConfigMap", "ns", "late", map[string]string{WaveAnnotation: "3", ArgoWaveAnnotation: "-9"}),
		obj("v1", "ConfigMap", "ns", "cfg", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "role", nil),
		obj("v1", "Namespace", "", "ns", map[string]string{ArgoWaveAnnotation: "7"}),
		obj("v1", "Secret", "ns", "after-web", map[string]string{DependsOnAnnotation: "apps/Deployment/ns/web"}),
		obj("example.com/v1", "Thing", "", "cluster-thing", nil),
	)
	assert.Equal(t, [][]string{{"ns"}, {"cluster-thing", "role"}, {"cfg"}, {"late"}, {"web"}, {"after-web"}, {"hook"}}, got)
}

func TestOrderErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		objs []*unstructured.Unstructured
		want string
		is   any
	}{
		"cycle": {
			objs: []*unstructured.Unstructured{
				obj("v1", "ConfigMap", "ns", "a", map[string]string{DependsOnAnnotation: "/ConfigMap/ns/b"}),
				obj("v1", "ConfigMap", "ns", "b", map[string]string{DependsOnAnnotation: "/ConfigMap/ns/c"}),
				obj("v1", "ConfigMap", "ns", "c", map[string]string{CLIUtilsDependsOnAnnotation: "/namespaces/ns/ConfigMap/a"}),
			},
			want: "dependency cycle: configmap/a -n ns -> configmap/b -n ns -> configmap/c -n ns -> configmap/a -n ns",
			is:   new(*CycleError),
		},
		"self": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "a", map[string]string{DependsOnAnnotation: "/ConfigMap/ns/a"})},
			want: "dependency cycle: configmap/a -n ns -> configmap/a -n ns",
			is:   new(*CycleError),
		},
		"missing dependency": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "a", map[string]string{DependsOnAnnotation: "/ConfigMap/ns/nope"})},
			want: "configmap/a -n ns depends on configmap/nope -n ns, which is not in the set",
			is:   new(*DependencyError),
		},
		"bad wave": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "a", map[string]string{ArgoWaveAnnotation: "first"})},
			want: `configmap/a -n ns: annotation argocd.argoproj.io/sync-wave="first": want an integer`,
		},
		"bad reference": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "a", map[string]string{DependsOnAnnotation: "ConfigMap/b"})},
			want: `reference "ConfigMap/b"`,
		},
		"bad recreate": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "a", map[string]string{RecreateAnnotation: "yes"})},
			want: `gitopskit.io/recreate="yes": want enabled or disabled`,
		},
		"duplicate": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "a", nil), obj("v2", "ConfigMap", "ns", "a", nil)},
			want: "configmap/a -n ns",
			is:   &object.ErrDuplicate,
		},
		"no name": {
			objs: []*unstructured.Unstructured{obj("v1", "ConfigMap", "ns", "", nil)},
			want: "apiVersion, kind and name must be set",
		},
		"generateName only": {
			objs: []*unstructured.Unstructured{func() *unstructured.Unstructured {
				u := obj("batch/v1", "Job", "ns", "", nil)
				u.SetGenerateName("migrate-")
				return u
			}()},
			want: "object 0 (job.batch/migrate-* -n ns): named by metadata.generateName only: server-side apply and the inventory need metadata.name",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Order(tc.objs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			switch is := tc.is.(type) {
			case *error:
				assert.ErrorIs(t, err, *is)
			case nil:
			default:
				assert.True(t, errors.As(err, is), "%T", err)
			}
		})
	}
}

func TestParseDirectives(t *testing.T) {
	d, err := ParseDirectives(obj("v1", "ConfigMap", "ns", "a", map[string]string{
		ArgoWaveAnnotation:          "2",
		DependsOnAnnotation:         "apps/Deployment/ns/web, /ConfigMap//cluster-thing",
		CLIUtilsDependsOnAnnotation: "rbac.authorization.k8s.io/ClusterRole/admin",
		RecreateAnnotation:          "enabled",
		FluxPruneAnnotation:         "disabled",
	}))
	require.NoError(t, err)
	assert.Equal(t, Directives{
		Wave: 2,
		DependsOn: []object.ID{
			{Group: "apps", Kind: "Deployment", Namespace: "ns", Name: "web"},
			{Kind: "ConfigMap", Name: "cluster-thing"},
			{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		},
		Recreate:    true,
		KeepOnPrune: true,
	}, d)
}

func FuzzParseDirectives(f *testing.F) {
	f.Add("1", "apps/Deployment/ns/web", "/namespaces/ns/ConfigMap/a", "enabled", "disabled")
	f.Add("-x", "a/b", "/ConfigMap/x", "yes", "")
	f.Add("", ",,", "g/namespaces//K/n", "disabled", "enabled")
	f.Fuzz(func(t *testing.T, wave, deps, cliDeps, recreate, prune string) {
		o := obj("v1", "ConfigMap", "ns", "a", map[string]string{
			WaveAnnotation: wave, DependsOnAnnotation: deps, CLIUtilsDependsOnAnnotation: cliDeps,
			RecreateAnnotation: recreate, PruneAnnotation: prune,
		})
		d, err := ParseDirectives(o)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "configmap/a -n ns: ") {
				t.Fatalf("error does not name the object: %v", err)
			}
			return
		}
		for _, dep := range d.DependsOn {
			if dep.Kind == "" || dep.Name == "" {
				t.Fatalf("empty reference accepted: %+v", dep)
			}
		}
		// Ordering must never panic, whatever the references say.
		_, _ = Order([]*unstructured.Unstructured{o})
	})
}
