package apply

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The sync options of Argo CD and the apply annotations of Flux, read on an object
// as the tools read them (see docs/migration.md).
const (
	// ArgoSyncOptionsAnnotation holds Argo CD's sync options of one object,
	// separated by commas: "Prune=false,Replace=true".
	ArgoSyncOptionsAnnotation = "argocd.argoproj.io/sync-options"
	// ArgoCompareOptionsAnnotation holds Argo CD's compare options of one object:
	// "IgnoreExtraneous", "ServerSideDiff=true".
	ArgoCompareOptionsAnnotation = "argocd.argoproj.io/compare-options"
	// FluxSSAAnnotation is Flux's apply policy of one object: Override (the
	// default), Merge, IfNotPresent or Ignore, in any case.
	FluxSSAAnnotation = "kustomize.toolkit.fluxcd.io/ssa"
	// FluxForceAnnotation set to "enabled" is Flux's form of RecreateAnnotation.
	FluxForceAnnotation = "kustomize.toolkit.fluxcd.io/force"
	// FluxReconcileAnnotation set to "disabled" leaves the object alone: it is
	// neither applied nor pruned. It is read on the live object too.
	FluxReconcileAnnotation = "kustomize.toolkit.fluxcd.io/reconcile"
)

// SSAMode says how an object is applied: Flux's kustomize.toolkit.fluxcd.io/ssa.
type SSAMode int

const (
	// SSAOverride applies the object as every other (the default).
	SSAOverride SSAMode = iota
	// SSAMerge applies the object without Force, so a field another manager
	// owns with another value is a [*ConflictError], not taken, and without
	// migrating the fields of client-side apply managers, so fields kubectl added
	// stay.
	SSAMerge
	// SSAIfNotPresent creates the object when it does not exist and never updates it.
	SSAIfNotPresent
	// SSAIgnore never applies nor prunes the object.
	SSAIgnore
)

var ssaModes = [...]string{SSAOverride: "Override", SSAMerge: "Merge", SSAIfNotPresent: "IfNotPresent", SSAIgnore: "Ignore"}

// String returns the mode as Flux spells it.
func (m SSAMode) String() string {
	if m < 0 || int(m) >= len(ssaModes) {
		return fmt.Sprintf("SSAMode(%d)", int(m))
	}
	return ssaModes[m]
}

// syncOptions are the sync options an object may carry, each with the values
// accepted and the directive each sets. A value absent from the map is an error.
var syncOptions = map[string]map[string]func(*Directives){
	"Prune":  {"true": nil, "false": func(d *Directives) { d.KeepOnPrune = true }},
	"Delete": {"true": nil, "false": func(d *Directives) { d.KeepOnDelete = true }},
	// Argo CD's `kubectl replace`, and with Force its `kubectl replace --force`.
	"Replace": {"true": func(d *Directives) { d.Replace = true }, "false": nil},
	// Alone, as `kubectl apply --force`: recreate when the update is refused.
	"Force":                       {"true": nil, "false": nil}, // read with Replace, below
	"ServerSideApply":             {"true": nil},
	"Validate":                    {"true": nil, "false": func(d *Directives) { d.SkipValidation = true }},
	"SkipDryRunOnMissingResource": {"true": func(d *Directives) { d.SkipDryRunOnMissingResource = true }, "false": nil},
	"PruneLast":                   {"true": func(d *Directives) { d.PruneLast = true }, "false": nil},
	"CreateNamespace":             {"true": func(d *Directives) { d.CreateNamespace = true }, "false": nil},
	"ApplyOutOfSyncOnly":          {"true": nil, "false": nil}, // what every apply does
}

// compareOptions are the compare options an object may carry; "" is an option
// without a value (IgnoreExtraneous).
var compareOptions = map[string]map[string]func(*Directives){
	"IgnoreExtraneous": {"": func(d *Directives) { d.IgnoreExtraneous = true }},
	"ServerSideDiff":   {"true": func(d *Directives) { d.ServerSideDiff = true }, "false": nil},
}

// whyNot explains the values of Argo CD's options that gitopskit refuses.
var whyNot = map[string]string{
	"Prune=confirm":         "gitopskit does not wait for a confirmation; use Prune=false and prune by hand",
	"Delete=confirm":        "gitopskit does not wait for a confirmation; use Delete=false and delete by hand",
	"ServerSideApply=false": "gitopskit applies server-side only",
}

// parseSyncDirectives reads the Argo CD sync and compare options and the Flux
// apply annotations of ann into d. Errors name the annotation, not the object.
func parseSyncDirectives(d *Directives, ann map[string]string) error {
	for _, o := range []struct {
		key     string
		options map[string]map[string]func(*Directives)
	}{{ArgoSyncOptionsAnnotation, syncOptions}, {ArgoCompareOptionsAnnotation, compareOptions}} {
		seen, err := parseOptions(d, o.key, ann[o.key], o.options)
		if err != nil {
			return err
		}
		if seen["Force"] == "true" {
			// With Replace, `kubectl replace --force`: every write deletes and
			// creates. Alone, `kubectl apply --force`: when an update is refused.
			d.Recreate, d.ForceReplace = true, d.Replace
		}
	}
	if v, ok := ann[FluxSSAAnnotation]; ok {
		mode, found := SSAOverride, false
		for m, name := range ssaModes {
			if strings.EqualFold(v, name) {
				mode, found = SSAMode(m), true
			}
		}
		if !found {
			return fmt.Errorf("annotation %s=%q: want Override, Merge, IfNotPresent or Ignore", FluxSSAAnnotation, v)
		}
		d.SSA = mode
	}
	for _, a := range []struct {
		key, on string
		set     *bool
	}{{FluxForceAnnotation, "enabled", &d.Recreate}, {FluxReconcileAnnotation, "disabled", &d.Disabled}} {
		v, ok := ann[a.key]
		if !ok {
			continue
		}
		if !strings.EqualFold(v, "enabled") && !strings.EqualFold(v, "disabled") {
			return fmt.Errorf("annotation %s=%q: want enabled or disabled", a.key, v)
		}
		*a.set = *a.set || strings.EqualFold(v, a.on)
	}
	return nil
}

// parseOptions reads one comma-separated list of options, as Argo CD does
// (spaces around each trimmed, empty items ignored), refusing an unknown option,
// a value not in known and an option given twice with different values.
func parseOptions(d *Directives, key, list string, known map[string]map[string]func(*Directives)) (map[string]string, error) {
	seen := map[string]string{}
	for _, item := range strings.Split(list, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, value, _ := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if why, ok := whyNot[name+"="+value]; ok {
			return nil, fmt.Errorf("annotation %s: %s is not supported: %s", key, item, why)
		}
		values, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("annotation %s: unknown option %q (known on an object: %s)", key, item, optionNames(known))
		}
		set, ok := values[value]
		if !ok {
			return nil, fmt.Errorf("annotation %s: option %q: want %s", key, item, optionValues(name, values))
		}
		if prev, ok := seen[name]; ok && prev != value {
			return nil, fmt.Errorf("annotation %s: option %s is given twice, as %q and %q", key, name, prev, value)
		}
		seen[name] = value
		if set != nil {
			set(d)
		}
	}
	return seen, nil
}

func optionNames(known map[string]map[string]func(*Directives)) string {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func optionValues(name string, values map[string]func(*Directives)) string {
	var out []string
	for v := range values {
		if v == "" {
			out = append(out, name)
		} else {
			out = append(out, name+"="+v)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " or ")
}

// Skip returns why an apply leaves the object of these directives alone, given
// its live copy (nil when it does not exist), or "": Flux's reconcile: disabled
// or ssa: Ignore, on the object or on its live copy (where Flux reads them too),
// and ssa: IfNotPresent on an object that exists. The diff package plans such an
// object as None, with this reason.
func (d Directives) Skip(live *unstructured.Unstructured) string {
	var ann map[string]string
	if live != nil {
		ann = live.GetAnnotations()
	}
	switch {
	case d.Disabled:
		return "not applied: annotation " + FluxReconcileAnnotation + "=disabled"
	case strings.EqualFold(ann[FluxReconcileAnnotation], "disabled"):
		return "not applied: the live object is annotated " + FluxReconcileAnnotation + "=disabled"
	case d.SSA == SSAIgnore:
		return "not applied: annotation " + FluxSSAAnnotation + "=Ignore"
	case strings.EqualFold(ann[FluxSSAAnnotation], "Ignore"):
		return "not applied: the live object is annotated " + FluxSSAAnnotation + "=Ignore"
	case d.SSA == SSAIfNotPresent && live != nil:
		return "not applied: it exists and is annotated " + FluxSSAAnnotation + "=IfNotPresent"
	}
	return ""
}

// Kept returns why prune keeps a member of these directives that left the set, or
// "": annotated prune-disabled (Prune=false for Argo CD), Delete=false when
// setDeleted (the set is emptied: an apply of no object with AllowEmpty), or
// left alone by Flux (reconcile: disabled, ssa: Ignore). The diff package plans
// such an object annotated IgnoreExtraneous as None, with this reason.
func (d Directives) Kept(setDeleted bool) string {
	switch {
	case d.KeepOnPrune:
		return "not pruned: annotated to be kept (prune: disabled, or " + ArgoSyncOptionsAnnotation + " Prune=false)"
	case d.KeepOnDelete && setDeleted:
		return "not pruned: the set is deleted and annotation " + ArgoSyncOptionsAnnotation + " has Delete=false"
	case d.Disabled:
		return "not pruned: annotation " + FluxReconcileAnnotation + "=disabled"
	case d.SSA == SSAIgnore:
		return "not pruned: annotation " + FluxSSAAnnotation + "=Ignore"
	}
	return ""
}
