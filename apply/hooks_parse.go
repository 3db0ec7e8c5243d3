package apply

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitopskit/gitopskit/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The annotations of hooks: Argo CD's resource hooks and Helm's chart hooks. They
// are parsed once, by [ParseHook], into a [Hook].
const (
	// ArgoHookAnnotation makes an object an Argo CD resource hook: a list, separated
	// by commas, of PreSync, Sync, PostSync, SyncFail, PostDelete, or Skip.
	ArgoHookAnnotation = "argocd.argoproj.io/hook"
	// ArgoHookDeletePolicyAnnotation lists when Argo CD deletes a hook:
	// HookSucceeded, HookFailed, BeforeHookCreation.
	ArgoHookDeletePolicyAnnotation = "argocd.argoproj.io/hook-delete-policy"
	// HelmHookAnnotation makes an object a Helm hook: a list, separated by commas,
	// of pre-install, post-install, pre-upgrade, post-upgrade, pre-delete,
	// post-delete, pre-rollback, post-rollback, test. It is ignored when
	// ArgoHookAnnotation is set, as Argo CD does.
	HelmHookAnnotation = "helm.sh/hook"
	// HelmHookWeightAnnotation orders Helm hooks within a phase (an integer,
	// lower first), unless a wave annotation is set.
	HelmHookWeightAnnotation = "helm.sh/hook-weight"
	// HelmHookDeletePolicyAnnotation lists when Helm deletes a hook:
	// before-hook-creation, hook-succeeded, hook-failed.
	HelmHookDeletePolicyAnnotation = "helm.sh/hook-delete-policy"
	// HookLabel is set on every hook the Manager creates. Its value is a hash of
	// the inventory's labels and the hook's kind, namespace and name (or
	// generateName), so that the next run finds the objects of the last one.
	HookLabel = "gitopskit.io/hook"
)

// HookPhase is when a hook runs, in Argo CD's words; Helm's hook events map onto
// them (pre-install and pre-upgrade are PreSync, post-install and post-upgrade
// PostSync).
type HookPhase string

// The phases of a sync, and those of a deletion, in the order they run.
const (
	// PreSync hooks run before anything of the set is applied; when one fails,
	// nothing is applied or pruned.
	PreSync HookPhase = "PreSync"
	// Sync hooks run after the set's objects are applied, before the prune.
	Sync HookPhase = "Sync"
	// PostSync hooks run after the apply and prune, once the set is healthy.
	PostSync HookPhase = "PostSync"
	// SyncFail hooks run when a phase of the sync failed.
	SyncFail HookPhase = "SyncFail"
	// PreDelete hooks (Helm's pre-delete) run before a deletion: an apply of an
	// empty set that prunes every member.
	PreDelete HookPhase = "PreDelete"
	// PostDelete hooks run after a deletion.
	PostDelete HookPhase = "PostDelete"
	// Skip is the phase of the events of hooks that never run (see Hook.Never).
	Skip HookPhase = "Skip"
)

// HookWhen restricts a Helm hook to the first sync of a set or to later ones.
type HookWhen int

// When a trigger fires.
const (
	// EverySync: every sync (Argo CD's hooks, Helm's delete hooks).
	EverySync HookWhen = iota
	// OnInstall: a sync whose inventory records no members yet (Helm's
	// pre-install and post-install).
	OnInstall
	// OnUpgrade: a sync whose inventory records members (Helm's pre-upgrade and
	// post-upgrade).
	OnUpgrade
)

// HookTrigger is one phase a hook runs in.
type HookTrigger struct {
	Phase HookPhase
	When  HookWhen
}

// HookDeletePolicy says when a hook is deleted.
type HookDeletePolicy string

// The delete policies, named as Argo CD names them; Helm's names map onto them.
const (
	// BeforeHookCreation deletes the hook left by the last run before creating it
	// again: the default when a hook has no policy.
	BeforeHookCreation HookDeletePolicy = "BeforeHookCreation"
	// HookSucceeded deletes the hook once it succeeded.
	HookSucceeded HookDeletePolicy = "HookSucceeded"
	// HookFailed deletes the hook once it failed.
	HookFailed HookDeletePolicy = "HookFailed"
)

// Hook is the hook annotations of one object, parsed.
type Hook struct {
	// Triggers are the phases the hook runs in. None when it never runs: see Never.
	Triggers []HookTrigger
	// Never says why a hook runs in no phase: Argo CD's Skip (the object is not
	// applied at all), Helm's rollback hooks (there is no rollback: applying an
	// older revision is an upgrade) and test hooks (run them with `helm test`).
	Never string
	// Weight orders hooks within a phase, lower first: the object's wave
	// (gitopskit.io/wave or argocd.argoproj.io/sync-wave), else helm.sh/hook-weight.
	Weight int
	// DeletePolicies, never empty: [BeforeHookCreation] when none is set.
	DeletePolicies []HookDeletePolicy
}

// Runs reports whether the hook runs in phase p of a sync that installs (no
// members recorded yet) or upgrades.
func (h Hook) Runs(p HookPhase, install bool) bool {
	for _, t := range h.Triggers {
		if t.Phase == p && (t.When == EverySync || (t.When == OnInstall) == install) {
			return true
		}
	}
	return false
}

// Deletes reports whether the hook has policy p.
func (h Hook) Deletes(p HookDeletePolicy) bool { return slices.Contains(h.DeletePolicies, p) }

var (
	argoPhases = map[string]HookPhase{
		"PreSync": PreSync, "Sync": Sync, "PostSync": PostSync, "SyncFail": SyncFail, "PostDelete": PostDelete,
	}
	helmEvents = map[string]HookTrigger{
		"pre-install": {PreSync, OnInstall}, "post-install": {PostSync, OnInstall},
		"pre-upgrade": {PreSync, OnUpgrade}, "post-upgrade": {PostSync, OnUpgrade},
		"pre-delete": {PreDelete, EverySync}, "post-delete": {PostDelete, EverySync},
	}
	// helmNever are the Helm events gitopskit knows and never runs.
	helmNever = map[string]string{
		"pre-rollback": "a rollback hook", "post-rollback": "a rollback hook",
		"test": "a test hook", "test-success": "a test hook", "test-failure": "a test hook",
	}
	argoPolicies = map[string]HookDeletePolicy{
		"BeforeHookCreation": BeforeHookCreation, "HookSucceeded": HookSucceeded, "HookFailed": HookFailed,
	}
	helmPolicies = map[string]HookDeletePolicy{
		"before-hook-creation": BeforeHookCreation, "hook-succeeded": HookSucceeded, "hook-failed": HookFailed,
	}
)

// IsHook reports whether obj carries a hook annotation (Argo CD's or Helm's),
// without checking its values.
func IsHook(obj *unstructured.Unstructured) bool {
	ann := obj.GetAnnotations()
	_, argo := ann[ArgoHookAnnotation]
	_, helm := ann[HelmHookAnnotation]
	return argo || helm
}

// ParseHook reads the hook annotations of obj: ok is false when it has none. A
// value that does not parse is an error naming the object and the annotation.
func ParseHook(obj *unstructured.Unstructured) (h Hook, ok bool, err error) {
	if !IsHook(obj) {
		return h, false, nil
	}
	ann := obj.GetAnnotations()
	name := object.IDOf(obj)
	if name.Name == "" {
		name.Name = obj.GetGenerateName() + "*"
	}
	bad := func(key, value, want string) error {
		return fmt.Errorf("%s: annotation %s=%q: %s", name.KubectlString(), key, value, want)
	}
	if v, argo := ann[ArgoHookAnnotation]; argo {
		for _, s := range splitList(v) {
			if s == "Skip" {
				h.Never = "argocd.argoproj.io/hook: Skip"
				continue
			}
			p, known := argoPhases[s]
			if !known {
				return h, true, bad(ArgoHookAnnotation, v, "want PreSync, Sync, PostSync, SyncFail, PostDelete or Skip")
			}
			h.Triggers = append(h.Triggers, HookTrigger{Phase: p})
		}
		if len(h.Triggers) == 0 && h.Never == "" {
			return h, true, bad(ArgoHookAnnotation, v, "want PreSync, Sync, PostSync, SyncFail, PostDelete or Skip")
		}
		if h.Never != "" {
			h.Triggers = nil // Skip: the object is not applied at all
		}
	} else {
		v := ann[HelmHookAnnotation]
		for _, s := range splitList(v) {
			s = strings.ToLower(s)
			if t, known := helmEvents[s]; known {
				h.Triggers = append(h.Triggers, t)
				continue
			}
			if why, known := helmNever[s]; known {
				h.Never = why + " (" + HelmHookAnnotation + ": " + s + ")"
				continue
			}
			return h, true, bad(HelmHookAnnotation, v, "want pre-install, post-install, pre-upgrade, post-upgrade, pre-delete, post-delete, pre-rollback, post-rollback or test")
		}
		if len(h.Triggers) == 0 && h.Never == "" {
			return h, true, bad(HelmHookAnnotation, v, "want a hook event")
		}
		if len(h.Triggers) > 0 {
			h.Never = ""
		}
	}
	named := obj
	if obj.GetName() == "" { // so that the error names it as the others do
		named = obj.DeepCopy()
		named.SetName(name.Name)
	}
	dir, err := ParseDirectives(named)
	if err != nil {
		return h, true, err
	}
	h.Weight = dir.Wave
	if w, set := ann[HelmHookWeightAnnotation]; set && ann[WaveAnnotation] == "" && ann[ArgoWaveAnnotation] == "" {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil {
			return h, true, bad(HelmHookWeightAnnotation, w, "want an integer")
		}
		h.Weight = n
	}
	for _, a := range []struct {
		key   string
		names map[string]HookDeletePolicy
		want  string
	}{
		{ArgoHookDeletePolicyAnnotation, argoPolicies, "want HookSucceeded, HookFailed or BeforeHookCreation"},
		{HelmHookDeletePolicyAnnotation, helmPolicies, "want before-hook-creation, hook-succeeded or hook-failed"},
	} {
		v, set := ann[a.key]
		if !set {
			continue
		}
		policies := splitList(v)
		if len(policies) == 0 {
			return h, true, bad(a.key, v, a.want)
		}
		for _, s := range policies {
			p, known := a.names[s]
			if !known {
				return h, true, bad(a.key, v, a.want)
			}
			if !h.Deletes(p) {
				h.DeletePolicies = append(h.DeletePolicies, p)
			}
		}
	}
	if len(h.DeletePolicies) == 0 {
		h.DeletePolicies = []HookDeletePolicy{BeforeHookCreation}
	}
	return h, true, nil
}

// SplitHooks separates the hooks of objs (objects with Argo CD's or Helm's hook
// annotation) from the members of the set, keeping the order of each. It fails on
// a hook annotation that does not parse, naming the object. A diff of the set
// compares the members only: hooks are not desired members.
func SplitHooks(objs []*unstructured.Unstructured) (members, hooks []*unstructured.Unstructured, err error) {
	for _, o := range objs {
		if o == nil || !IsHook(o) {
			members = append(members, o)
			continue
		}
		if _, _, err := ParseHook(o); err != nil {
			return nil, nil, err
		}
		hooks = append(hooks, o)
	}
	return members, hooks, nil
}
