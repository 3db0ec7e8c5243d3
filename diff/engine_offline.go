package diff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/merge"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff/internal/builtin"
	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
)

// Offline is the [Engine] that predicts a server-side apply locally with
// structured-merge-diff, the library the API server uses: live's managedFields give
// what each manager owns, the OpenAPI schemas give list merge keys and which maps
// and lists are atomic. It makes no request per object.
//
// A kind is typed by the first of: the [SchemaSource] given to [NewOffline] (the
// cluster's, through [ClusterSchemas]); the schema of its CustomResourceDefinition
// manifest, from the desired set of a [Differ.Plan] or [OfflineOptions.CRDs]; the
// schemas of the built-in kinds shipped with the package (Kubernetes v1.37.2),
// decoded on first use; and last, deduced typing (every list atomic), with a
// warning. [Change.Typing] says which. So without a cluster, built-in kinds and
// custom resources whose CRD is in the set are typed as the server types them.
//
// The merged object is then written as the server would store it: quantities in
// canonical form, the empty scalars the built-in types omit removed, and no
// namespace on a cluster-scoped kind.
//
// What it cannot know: the server's defaulting of fields the apply adds inside a
// value the manifest declares atomically (an RBAC subject's apiGroup, say), the
// default the server puts back when the manifest stops declaring a defaulted field
// it declared before, and mutating admission. Such fields show up as changes the
// [Server] engine would not report. It is safe for concurrent use.
type Offline struct {
	schemas SchemaSource
	log     logr.Logger
	updater *merge.Updater
	opts    OfflineOptions
	builtin *builtinSchemas
	crds    *crdSchemas
}

// OfflineOptions configures [NewOffline].
type OfflineOptions struct {
	// Logger receives a line for each kind that falls back to deduced typing; unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
	// Mapper, when set, tells namespaced kinds from cluster-scoped ones, so that
	// an object to create of a namespaced kind without a namespace fails, as its
	// apply would.
	Mapper meta.RESTMapper
	// Client, when set with Mapper, reads the namespace of each object to create,
	// so that one in a namespace that does not exist fails (or, in a [Differ.Plan]
	// whose set creates that namespace, is predicted as declared). Objects that
	// exist cost no request.
	Client dynamic.Interface
	// CRDs are CustomResourceDefinition manifests that type the custom resources
	// the schema source does not know. A [Differ.Plan] adds those of its desired
	// set, which take precedence. [ReadCRDs] reads them from a directory.
	CRDs []*unstructured.Unstructured
}

// NewOffline returns an offline engine reading schemas from schemas, which may be
// nil when there is no cluster: built-in kinds are then typed by the schemas
// shipped with the package and custom resources by their CRD manifests.
func NewOffline(schemas SchemaSource, opts OfflineOptions) *Offline {
	b := merge.UpdaterBuilder{Converter: sameVersion{}, ReturnInputOnNoop: true}
	return &Offline{
		schemas: schemas, log: opts.Logger, updater: b.BuildUpdater(), opts: opts,
		builtin: sharedBuiltin(), crds: (*crdSchemas)(nil).withCRDs(opts.CRDs),
	}
}

// sharedBuiltin is the one builtinSchemas of every engine: the schemas shipped
// with the package, decoded once (about half a megabyte) and never changed, so
// that a controller with an engine per set holds them once, not once a set.
var sharedBuiltin = sync.OnceValue(func() *builtinSchemas { return &builtinSchemas{} })

// forSet returns the engine for one plan of desired: o, with the CRD manifests of
// the set added.
func (o *Offline) forSet(desired []*unstructured.Unstructured) Engine {
	crds := o.crds.withCRDs(desired)
	if crds == o.crds {
		return o
	}
	c := *o
	c.crds = crds
	return &c
}

// Predict merges req.Desired into req.Live as the API server would for an apply by
// req.FieldManager. Without Force, a conflict is a [*apply.ConflictError].
func (o *Offline) Predict(ctx context.Context, req Request) (*Prediction, error) {
	return o.predictParsed(ctx, req, nil)
}

// predictParsed is Predict with Live's managedFields parsed by the caller (nil:
// parse them here).
func (o *Offline) predictParsed(ctx context.Context, req Request, managers fieldpath.ManagedFields) (*Prediction, error) {
	config := stripForApply(req.Desired)
	dropNulls(config.Object)
	gvk := config.GroupVersionKind()
	kind, isBuiltin, err := o.builtin.kind(gvk)
	if err != nil {
		return nil, err
	}
	if req.Live == nil {
		if o.opts.Mapper != nil {
			if err := ssa.CheckNamespace(ctx, o.opts.Client, o.opts.Mapper, config); err != nil {
				return nil, err
			}
		}
		if isBuiltin {
			o.builtin.index.decodeLikeServer(config.Object, kind)
		}
		// As the API server's apply, a create fails on a value of the wrong type
		// or a field the schema does not know.
		tc, typing, err := o.typeConverter(ctx, gvk)
		if err != nil {
			return nil, err
		}
		if typing != TypingDeduced {
			if _, err = tc.ObjectToTyped(config); err != nil {
				return nil, fmt.Errorf("type desired object: %w", err)
			}
		}
		return &Prediction{Object: config, Typing: typing}, nil
	}
	p := &Prediction{}
	tc, typing, err := o.typeConverter(ctx, gvk)
	if err != nil {
		return nil, err
	}
	p.Typing = typing
	if typing == TypingDeduced {
		logging.From(ctx, o.log).Info("no schema, lists and maps are merged atomically", "kind", gvk.String())
		p.Warnings = append(p.Warnings, fmt.Sprintf("no OpenAPI schema for %s: merged with deduced types, lists atomic", gvk))
	}
	if o.clusterScoped(gvk, kind, isBuiltin) {
		// The server ignores a namespace on a cluster-scoped object, as kubectl does.
		unstructured.RemoveNestedField(config.Object, "metadata", "namespace")
	}
	if managers == nil {
		if managers, err = liveManagers(req.Live, ssa.CSASet(req.CSAManagers), req.FieldManager); err != nil {
			return nil, err
		}
	}
	mgr, err := managerID(req.FieldManager)
	if err != nil {
		return nil, err
	}
	if unchanged(config.Object, req.Live.Object, managers, mgr) {
		// The common case of drift detection, at a fraction of a merge's cost. A
		// field the schema does not know cannot be in live, so such a manifest
		// takes the path below and fails typing there.
		p.Object = req.Live
		return p, nil
	}
	configTV, err := tc.ObjectToTyped(config)
	if err != nil {
		return nil, fmt.Errorf("type desired object (%s typing): %w", typing, err)
	}
	liveTV, err := tc.ObjectToTyped(req.Live, typed.AllowDuplicates)
	if err != nil && (typing == TypingBuiltin || typing == TypingCRDManifest) {
		// Live came from a cluster whose schema is not the one we have (a newer
		// Kubernetes, another CRD version): merge with deduced types rather than
		// not at all.
		p.Warnings = append(p.Warnings, fmt.Sprintf("live object does not fit the %s schema (%v): merged with deduced types, lists atomic", typing, err))
		p.Typing = TypingDeduced
		tc = managedfields.NewDeducedTypeConverter()
		if configTV, err = tc.ObjectToTyped(config); err == nil {
			liveTV, err = tc.ObjectToTyped(req.Live, typed.AllowDuplicates)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("type live object (%s typing): %w", p.Typing, err)
	}
	merged, _, err := o.updater.Apply(liveTV, configTV, fieldpath.APIVersion(config.GetAPIVersion()), managers, mgr, req.Force)
	if err != nil {
		var conflicts merge.Conflicts
		if errors.As(err, &conflicts) {
			return nil, offlineConflict(object.IDOf(config), conflicts)
		}
		return nil, fmt.Errorf("merge: %w", err)
	}
	u, ok := merged.AsValue().Unstructured().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("merge: result is not an object")
	}
	// The merge shares values with live: copy before rewriting.
	u = runtime.DeepCopyJSON(u)
	if isBuiltin {
		o.builtin.index.decodeLikeServer(u, kind)
		defaultLabels(u, gvk.GroupKind())
	}
	if applied, err := configTV.ToFieldSet(); err == nil {
		keepAtomicDefaults(u, req.Live.Object, config.Object, applied)
	}
	p.Object = &unstructured.Unstructured{Object: u}
	return p, nil
}

// typeConverter finds the schema of gvk: the source, a CRD manifest, the built-in
// schemas, or deduction.
func (o *Offline) typeConverter(ctx context.Context, gvk schema.GroupVersionKind) (managedfields.TypeConverter, Typing, error) {
	if o.schemas != nil {
		tc, err := o.schemas.TypeConverter(ctx, gvk)
		if err == nil {
			return tc, sourceTyping(o.schemas), nil
		}
		if !errors.Is(err, ErrNoSchema) {
			return nil, "", err
		}
	}
	if cs := o.crds.lookup(gvk); cs != nil {
		tc, err := cs.typeConverter(o.builtin.metaTypes)
		if err != nil {
			return nil, "", err
		}
		return tc, TypingCRDManifest, nil
	}
	if _, ok, err := o.builtin.kind(gvk); err != nil || ok {
		if err != nil {
			return nil, "", err
		}
		tc, err := o.builtin.typeConverter()
		if err != nil {
			return nil, "", err
		}
		return tc, TypingBuiltin, nil
	}
	return managedfields.NewDeducedTypeConverter(), TypingDeduced, nil
}

// clusterScoped reports whether gvk is known to be cluster-scoped: by the built-in
// index, a CRD manifest, or the schema source's documents.
func (o *Offline) clusterScoped(gvk schema.GroupVersionKind, k builtin.Kind, isBuiltin bool) bool {
	if isBuiltin && k.Scope != "" {
		return k.Scope == builtin.Cluster
	}
	if cs := o.crds.lookup(gvk); cs != nil {
		return !cs.namespaced
	}
	if s, ok := o.schemas.(scoper); ok {
		return s.scope(gvk) == builtin.Cluster
	}
	return false
}

func offlineConflict(id object.ID, cs merge.Conflicts) error {
	conflicts := make([]apply.Conflict, len(cs))
	for i, c := range cs {
		conflicts[i] = apply.Conflict{Field: c.Path.String(), Manager: managerName(c.Manager)}
	}
	return apply.NewConflictError(id, conflicts, nil)
}

// sameVersion is the merge converter for one version: live, desired and every
// managed set are compared in the version they were recorded in.
type sameVersion struct{}

func (sameVersion) Convert(v *typed.TypedValue, _ fieldpath.APIVersion) (*typed.TypedValue, error) {
	return v, nil
}

func (sameVersion) IsMissingVersionError(error) bool { return false }

func isNoType(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "no corresponding type for ")
}

// scoper is implemented by the package's schema sources, which read kinds' scopes
// from their documents' paths.
type scoper interface {
	scope(gvk schema.GroupVersionKind) string
}

// sourceTyping is the typing of an object typed by source.
func sourceTyping(source SchemaSource) Typing {
	if _, ok := source.(*ClusterSchemas); ok {
		return TypingCluster
	}
	return TypingStatic
}

func emptyObject(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	return u
}
