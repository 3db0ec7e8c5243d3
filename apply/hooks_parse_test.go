package apply_test

import (
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func hookObject(ann map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("batch/v1")
	u.SetKind("Job")
	u.SetNamespace("shop")
	u.SetGenerateName("migrate-")
	u.SetAnnotations(ann)
	return u
}

func TestParseHook(t *testing.T) {
	upgrade := []apply.HookTrigger{{Phase: apply.PreSync, When: apply.OnUpgrade}, {Phase: apply.PostSync, When: apply.OnInstall}}
	for _, tc := range []struct {
		name string
		ann  map[string]string
		want apply.Hook
	}{
		{"argo list", map[string]string{"argocd.argoproj.io/hook": "PreSync, PostSync", "argocd.argoproj.io/sync-wave": "-2"},
			apply.Hook{Triggers: []apply.HookTrigger{{Phase: apply.PreSync}, {Phase: apply.PostSync}}, Weight: -2,
				DeletePolicies: []apply.HookDeletePolicy{apply.BeforeHookCreation}}},
		{"argo skip", map[string]string{"argocd.argoproj.io/hook": "Skip"},
			apply.Hook{Never: "argocd.argoproj.io/hook: Skip", DeletePolicies: []apply.HookDeletePolicy{apply.BeforeHookCreation}}},
		{"argo wins over helm", map[string]string{"argocd.argoproj.io/hook": "SyncFail", "helm.sh/hook": "pre-install",
			"argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed"},
			apply.Hook{Triggers: []apply.HookTrigger{{Phase: apply.SyncFail}}, DeletePolicies: []apply.HookDeletePolicy{apply.HookSucceeded, apply.HookFailed}}},
		{"helm weight and policies", map[string]string{"helm.sh/hook": "pre-upgrade,Post-Install", "helm.sh/hook-weight": " 5 ",
			"helm.sh/hook-delete-policy": "hook-succeeded,before-hook-creation"},
			apply.Hook{Triggers: upgrade, Weight: 5, DeletePolicies: []apply.HookDeletePolicy{apply.HookSucceeded, apply.BeforeHookCreation}}},
		{"helm wave wins over weight", map[string]string{"helm.sh/hook": "post-delete", "helm.sh/hook-weight": "5", "gitopskit.io/wave": "1"},
			apply.Hook{Triggers: []apply.HookTrigger{{Phase: apply.PostDelete}}, Weight: 1, DeletePolicies: []apply.HookDeletePolicy{apply.BeforeHookCreation}}},
		{"helm test", map[string]string{"helm.sh/hook": "test"},
			apply.Hook{Never: "a test hook (helm.sh/hook: test)", DeletePolicies: []apply.HookDeletePolicy{apply.BeforeHookCreation}}},
		{"helm rollback", map[string]string{"helm.sh/hook": "pre-rollback"},
			apply.Hook{Never: "a rollback hook (helm.sh/hook: pre-rollback)", DeletePolicies: []apply.HookDeletePolicy{apply.BeforeHookCreation}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok, err := apply.ParseHook(hookObject(tc.ann))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, tc.want, h)
		})
	}
	h, ok, err := apply.ParseHook(hookObject(map[string]string{"argocd.argoproj.io/sync-wave": "1"}))
	require.NoError(t, err)
	require.False(t, ok, "an object without hook annotations is no hook: %+v", h)
}

// TestParseHookRunsInstallOrUpgrade: Helm's install hooks run on a sync that
// installs, its upgrade hooks on one that upgrades; Argo CD's on both.
func TestParseHookRunsInstallOrUpgrade(t *testing.T) {
	h, _, err := apply.ParseHook(hookObject(map[string]string{"helm.sh/hook": "pre-install,post-upgrade"}))
	require.NoError(t, err)
	require.True(t, h.Runs(apply.PreSync, true))
	require.False(t, h.Runs(apply.PreSync, false))
	require.True(t, h.Runs(apply.PostSync, false))
	require.False(t, h.Runs(apply.PostSync, true))
	a, _, err := apply.ParseHook(hookObject(map[string]string{"argocd.argoproj.io/hook": "PreSync"}))
	require.NoError(t, err)
	require.True(t, a.Runs(apply.PreSync, true) && a.Runs(apply.PreSync, false))
}

// TestParseHookErrors: a malformed hook annotation is an error naming the object
// and the annotation.
func TestParseHookErrors(t *testing.T) {
	for _, ann := range []map[string]string{
		{"argocd.argoproj.io/hook": "PreSnyc"},
		{"argocd.argoproj.io/hook": " , "},
		{"argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": "Always"},
		{"argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": ""},
		{"argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/sync-wave": "first"},
		{"helm.sh/hook": "pre-instal"},
		{"helm.sh/hook": ""},
		{"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "heavy"},
		{"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "HookSucceeded"},
	} {
		_, ok, err := apply.ParseHook(hookObject(ann))
		require.True(t, ok)
		require.Error(t, err, "%v", ann)
		require.Contains(t, err.Error(), "job.batch/migrate-* -n shop", "%v", ann)
		var key string
		for k := range ann {
			if strings.Contains(err.Error(), k) {
				key = k
			}
		}
		require.NotEmpty(t, key, "the error names no annotation: %v", err)
	}
}

// TestSplitHooks keeps the members in order and fails on a malformed hook.
func TestSplitHooks(t *testing.T) {
	m1, m2 := hookObject(nil), hookObject(map[string]string{"gitopskit.io/wave": "1"})
	h := hookObject(map[string]string{"helm.sh/hook": "post-install"})
	members, hooks, err := apply.SplitHooks([]*unstructured.Unstructured{m1, h, m2})
	require.NoError(t, err)
	require.Equal(t, []*unstructured.Unstructured{m1, m2}, members)
	require.Equal(t, []*unstructured.Unstructured{h}, hooks)
	_, _, err = apply.SplitHooks([]*unstructured.Unstructured{m1, hookObject(map[string]string{"helm.sh/hook": "later"})})
	require.ErrorContains(t, err, `helm.sh/hook="later"`)
}

func FuzzParseHook(f *testing.F) {
	f.Add("PreSync,Skip", "HookSucceeded", "pre-install", "-3", "hook-failed")
	f.Add("", "", "post-upgrade, test", "x", "")
	f.Fuzz(func(t *testing.T, argo, argoPolicy, helm, weight, helmPolicy string) {
		ann := map[string]string{}
		for k, v := range map[string]string{"argocd.argoproj.io/hook": argo, "argocd.argoproj.io/hook-delete-policy": argoPolicy,
			"helm.sh/hook": helm, "helm.sh/hook-weight": weight, "helm.sh/hook-delete-policy": helmPolicy} {
			if v != "" {
				ann[k] = v
			}
		}
		h, ok, err := apply.ParseHook(hookObject(ann))
		if err != nil {
			if !strings.Contains(err.Error(), "job.batch/migrate-*") {
				t.Fatalf("error does not name the object: %v", err)
			}
			return
		}
		if ok && len(h.DeletePolicies) == 0 {
			t.Fatal("a hook without delete policy")
		}
		if ok && len(h.Triggers) == 0 && h.Never == "" {
			t.Fatalf("a hook that never runs says not why: %+v", h)
		}
	})
}
