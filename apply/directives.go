package apply

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Annotations that steer the apply of one object. They are parsed once, by
// [ParseDirectives], into typed values.
const (
	// WaveAnnotation orders objects within a stage: lower waves first (default 0).
	WaveAnnotation = "gitopskit.io/wave"
	// ArgoWaveAnnotation is Argo CD's wave annotation, read when WaveAnnotation is absent.
	ArgoWaveAnnotation = "argocd.argoproj.io/sync-wave"
	// DependsOnAnnotation lists objects, separated by commas, that must be applied
	// first: "group/Kind/namespace/name" (the form of object.ID.String), or the
	// cli-utils forms "group/namespaces/namespace/Kind/name" and "group/Kind/name".
	DependsOnAnnotation = "gitopskit.io/depends-on"
	// CLIUtilsDependsOnAnnotation is the depends-on annotation of cli-utils, kpt and
	// Config Sync, read as well.
	CLIUtilsDependsOnAnnotation = "config.kubernetes.io/depends-on"
	// RecreateAnnotation set to "enabled" lets an immutable field change delete and
	// recreate the object.
	RecreateAnnotation = ssa.RecreateAnnotation
	// PruneAnnotation set to "disabled" keeps the object when it leaves the set.
	PruneAnnotation = "gitopskit.io/prune"
	// FluxPruneAnnotation is Flux's equivalent of PruneAnnotation.
	FluxPruneAnnotation = "kustomize.toolkit.fluxcd.io/prune"
)

// Directives are the apply annotations of one object, parsed. docs/migration.md
// says which annotation of Argo CD or Flux sets each.
type Directives struct {
	Wave      int
	DependsOn []object.ID
	// Recreate allows delete-and-create when an update is refused because an
	// immutable field changes.
	Recreate bool
	// KeepOnPrune keeps the object in the cluster when it leaves the set, the set
	// emptied included.
	KeepOnPrune bool
	// KeepOnDelete keeps the object when the whole set is deleted (an apply of an
	// empty set with AllowEmpty, as a finalizer runs), but not when it alone
	// leaves a set that goes on: Argo CD's Delete=false.
	KeepOnDelete bool
	// PruneLast prunes the object after every other member that leaves the set.
	PruneLast bool
	// Replace writes the object with an update (a PUT, as `kubectl replace`)
	// instead of a server-side apply, or a create when it does not exist: every
	// field it does not declare goes, whoever set it.
	Replace bool
	// ForceReplace, with Replace, deletes the object and creates it again
	// instead of updating it (`kubectl replace --force`).
	ForceReplace bool
	// SkipValidation writes with the API server's field validation Ignore:
	// unknown and duplicate fields are dropped instead of failing the write.
	SkipValidation bool
	// SkipDryRunOnMissingResource lets a dry run or a diff predict the object as
	// declared, a create with a warning, when the cluster does not serve its kind.
	SkipDryRunOnMissingResource bool
	// CreateNamespace creates the object's namespace when it does not exist, as
	// ApplyOptions.CreateNamespace does for every object.
	CreateNamespace bool
	// IgnoreExtraneous keeps a member that left the set and that prune keeps
	// out of the diff's changes.
	IgnoreExtraneous bool
	// ServerSideDiff has the diff ask the API server for this object (see
	// diff.Server) when it can.
	ServerSideDiff bool
	// SSA says how the object is applied (Flux's kustomize.toolkit.fluxcd.io/ssa).
	SSA SSAMode
	// Disabled leaves the object alone: neither applied nor pruned.
	Disabled bool
}

// ParseDirectives reads the apply annotations of obj. An annotation that does not
// parse is an error naming the object and the annotation. References without a
// namespace in the object.ID form stay cluster-scoped; the cli-utils namespaced form
// must name its namespace.
func ParseDirectives(obj *unstructured.Unstructured) (Directives, error) {
	var d Directives
	ann := obj.GetAnnotations()
	id := object.IDOf(obj)
	key, wave := WaveAnnotation, ann[WaveAnnotation]
	if wave == "" {
		key, wave = ArgoWaveAnnotation, ann[ArgoWaveAnnotation]
	}
	if wave != "" {
		w, err := strconv.Atoi(strings.TrimSpace(wave))
		if err != nil {
			return d, fmt.Errorf("%s: annotation %s=%q: want an integer", id.KubectlString(), key, wave)
		}
		d.Wave = w
	}
	for _, key := range []string{DependsOnAnnotation, CLIUtilsDependsOnAnnotation} {
		for _, ref := range strings.Split(ann[key], ",") {
			if ref = strings.TrimSpace(ref); ref == "" {
				continue
			}
			dep, err := parseRef(ref)
			if err != nil {
				return d, fmt.Errorf("%s: annotation %s: %w", id.KubectlString(), key, err)
			}
			d.DependsOn = append(d.DependsOn, dep)
		}
	}
	var err error
	if d.Recreate, err = ssa.Enabled(ann, RecreateAnnotation, "enabled"); err != nil {
		return d, fmt.Errorf("%s: %w", id.KubectlString(), err)
	}
	for _, key := range []string{PruneAnnotation, FluxPruneAnnotation} {
		disabled, err := ssa.Enabled(ann, key, "disabled")
		if err != nil {
			return d, fmt.Errorf("%s: %w", id.KubectlString(), err)
		}
		d.KeepOnPrune = d.KeepOnPrune || disabled
	}
	if err := parseSyncDirectives(&d, ann); err != nil {
		return d, fmt.Errorf("%s: %w", id.KubectlString(), err)
	}
	return d, nil
}

// parseRef parses one object reference of a depends-on annotation.
func parseRef(ref string) (object.ID, error) {
	parts := strings.Split(ref, "/")
	var id object.ID
	switch {
	case len(parts) == 4:
		return object.ParseID(ref)
	case len(parts) == 5 && parts[1] == "namespaces":
		id = object.ID{Group: parts[0], Namespace: parts[2], Kind: parts[3], Name: parts[4]}
	case len(parts) == 3:
		id = object.ID{Group: parts[0], Kind: parts[1], Name: parts[2]}
	default:
		return id, fmt.Errorf("reference %q: want group/Kind/namespace/name", ref)
	}
	if id.Kind == "" || id.Name == "" || (len(parts) == 5 && id.Namespace == "") {
		return id, fmt.Errorf("reference %q: kind, name and namespace must not be empty", ref)
	}
	return id, nil
}
