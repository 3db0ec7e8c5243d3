package apply

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseSyncDirectives(t *testing.T) {
	for name, tc := range map[string]struct {
		ann  map[string]string
		want Directives
	}{
		"argo prune and delete": {
			ann:  map[string]string{ArgoSyncOptionsAnnotation: " Prune=false , Delete=false,"},
			want: Directives{KeepOnPrune: true, KeepOnDelete: true},
		},
		"argo replace": {
			ann:  map[string]string{ArgoSyncOptionsAnnotation: "Replace=true"},
			want: Directives{Replace: true},
		},
		"argo force alone recreates on a refused update": {
			ann:  map[string]string{ArgoSyncOptionsAnnotation: "Force=true"},
			want: Directives{Recreate: true},
		},
		"argo force with replace": {
			ann:  map[string]string{ArgoSyncOptionsAnnotation: "Force=true,Replace=true"},
			want: Directives{Replace: true, ForceReplace: true, Recreate: true},
		},
		"argo the rest": {
			ann: map[string]string{ArgoSyncOptionsAnnotation: "ServerSideApply=true,Validate=false,SkipDryRunOnMissingResource=true," +
				"PruneLast=true,CreateNamespace=true,ApplyOutOfSyncOnly=true"},
			want: Directives{SkipValidation: true, SkipDryRunOnMissingResource: true, PruneLast: true, CreateNamespace: true},
		},
		"argo values that change nothing": {
			ann:  map[string]string{ArgoSyncOptionsAnnotation: "Prune=true,Delete=true,Replace=false,Force=false,Validate=true,PruneLast=false"},
			want: Directives{},
		},
		"argo compare options": {
			ann:  map[string]string{ArgoCompareOptionsAnnotation: "IgnoreExtraneous,ServerSideDiff=true"},
			want: Directives{IgnoreExtraneous: true, ServerSideDiff: true},
		},
		"flux, in any case": {
			ann:  map[string]string{FluxSSAAnnotation: "merge", FluxForceAnnotation: "Enabled", FluxReconcileAnnotation: "disabled"},
			want: Directives{SSA: SSAMerge, Recreate: true, Disabled: true},
		},
		"flux if not present": {
			ann:  map[string]string{FluxSSAAnnotation: "IfNotPresent", FluxReconcileAnnotation: "enabled", FluxForceAnnotation: "disabled"},
			want: Directives{SSA: SSAIfNotPresent},
		},
		"flux ignore": {
			ann:  map[string]string{FluxSSAAnnotation: "Ignore"},
			want: Directives{SSA: SSAIgnore},
		},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := ParseDirectives(obj("v1", "ConfigMap", "ns", "a", tc.ann))
			require.NoError(t, err)
			assert.Equal(t, tc.want, d)
		})
	}
}

func TestParseSyncDirectivesErrors(t *testing.T) {
	for ann, want := range map[[2]string]string{
		{ArgoSyncOptionsAnnotation, "Prune=no"}:                      `option "Prune=no": want Prune=false or Prune=true`,
		{ArgoSyncOptionsAnnotation, "Prune=confirm"}:                 "Prune=confirm is not supported: gitopskit does not wait for a confirmation",
		{ArgoSyncOptionsAnnotation, "ServerSideApply=false"}:         "ServerSideApply=false is not supported: gitopskit applies server-side only",
		{ArgoSyncOptionsAnnotation, "RespectIgnoreDifferences=true"}: `unknown option "RespectIgnoreDifferences=true"`,
		{ArgoSyncOptionsAnnotation, "Prune"}:                         `option "Prune": want`,
		{ArgoSyncOptionsAnnotation, "Prune=false,Prune=true"}:        `option Prune is given twice, as "false" and "true"`,
		{ArgoCompareOptionsAnnotation, "IgnoreExtraneous=true"}:      `option "IgnoreExtraneous=true": want IgnoreExtraneous`,
		{ArgoCompareOptionsAnnotation, "ServerSideDiff=yes"}:         `want ServerSideDiff=false or ServerSideDiff=true`,
		{FluxSSAAnnotation, "Always"}:                                `kustomize.toolkit.fluxcd.io/ssa="Always": want Override, Merge, IfNotPresent or Ignore`,
		{FluxForceAnnotation, "true"}:                                `kustomize.toolkit.fluxcd.io/force="true": want enabled or disabled`,
		{FluxReconcileAnnotation, "off"}:                             `kustomize.toolkit.fluxcd.io/reconcile="off": want enabled or disabled`,
	} {
		_, err := ParseDirectives(obj("apps/v1", "Deployment", "shop", "web", map[string]string{ann[0]: ann[1]}))
		require.Error(t, err, "%s: %s", ann[0], ann[1])
		assert.Contains(t, err.Error(), want)
		assert.True(t, strings.HasPrefix(err.Error(), "deployment.apps/web -n shop: annotation "+ann[0]), err.Error())
	}
}

func TestSkip(t *testing.T) {
	live := obj("v1", "ConfigMap", "ns", "a", nil)
	disabledLive := obj("v1", "ConfigMap", "ns", "a", map[string]string{FluxReconcileAnnotation: "Disabled"})
	ignoredLive := obj("v1", "ConfigMap", "ns", "a", map[string]string{FluxSSAAnnotation: "ignore"})
	for _, tc := range []struct {
		d    Directives
		live *unstructured.Unstructured
		want string
	}{
		{Directives{}, live, ""},
		{Directives{SSA: SSAIfNotPresent}, nil, ""},
		{Directives{SSA: SSAIfNotPresent}, live, "it exists and is annotated kustomize.toolkit.fluxcd.io/ssa=IfNotPresent"},
		{Directives{SSA: SSAIgnore}, nil, "annotation kustomize.toolkit.fluxcd.io/ssa=Ignore"},
		{Directives{Disabled: true}, nil, "annotation kustomize.toolkit.fluxcd.io/reconcile=disabled"},
		{Directives{}, disabledLive, "the live object is annotated kustomize.toolkit.fluxcd.io/reconcile=disabled"},
		{Directives{}, ignoredLive, "the live object is annotated kustomize.toolkit.fluxcd.io/ssa=Ignore"},
	} {
		got := tc.d.Skip(tc.live)
		if tc.want == "" {
			assert.Empty(t, got, "%+v", tc.d)
			continue
		}
		assert.Contains(t, got, tc.want, "%+v", tc.d)
	}
}

func FuzzParseSyncOptions(f *testing.F) {
	f.Add("Prune=false,Delete=false", "IgnoreExtraneous", "Merge", "enabled", "disabled")
	f.Add("Force=true, Replace=true ,,", "ServerSideDiff=true", "ifnotpresent", "Disabled", "Enabled")
	f.Add("Prune=confirm", "=", "", "", "x")
	f.Add("Validate=false,Validate=true", "IgnoreExtraneous=", "ignore", "ENABLED", "")
	f.Fuzz(func(t *testing.T, sync, compare, ssaMode, force, reconcile string) {
		o := obj("v1", "ConfigMap", "ns", "a", map[string]string{
			ArgoSyncOptionsAnnotation: sync, ArgoCompareOptionsAnnotation: compare,
			FluxSSAAnnotation: ssaMode, FluxForceAnnotation: force, FluxReconcileAnnotation: reconcile,
		})
		d, err := ParseDirectives(o)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "configmap/a -n ns: annotation ") {
				t.Fatalf("error does not name the object and the annotation: %v", err)
			}
			return
		}
		if d.ForceReplace && !d.Replace {
			t.Fatalf("ForceReplace without Replace: %+v", d)
		}
		if d.SSA < SSAOverride || d.SSA > SSAIgnore {
			t.Fatalf("mode out of range: %v", d.SSA)
		}
		// Parsing the same annotations again gives the same directives.
		again, err := ParseDirectives(o)
		require.NoError(t, err)
		assert.Equal(t, d, again)
		_ = d.Skip(o)
	})
}
