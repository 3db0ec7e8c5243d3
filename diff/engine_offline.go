package diff

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/merge"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
)

// Offline is the [Engine] that predicts a server-side apply locally with
// structured-merge-diff, the library the API server uses: live's managedFields give
// what each manager owns, the OpenAPI schemas give list merge keys and which maps
// and lists are atomic. It makes no request per object.
//
// What it cannot know: the server's defaulting of fields the apply adds inside a
// value the manifest declares atomically (an RBAC subject's apiGroup, say) and
// mutating admission. Such fields show up as changes the [Server] engine would not
// report. Kinds without a schema fall back to deduced typing (every list atomic) with
// a warning. It is safe for concurrent use.
type Offline struct {
	schemas SchemaSource
	log     logr.Logger
	updater *merge.Updater
	opts    OfflineOptions
}

// OfflineOptions configures [NewOffline].
type OfflineOptions struct {
	// Log receives a line for each kind that falls back to deduced typing.
	Log logr.Logger
	// Mapper, when set, tells namespaced kinds from cluster-scoped ones, so that
	// an object to create of a namespaced kind without a namespace fails, as its
	// apply would.
	Mapper meta.RESTMapper
	// Client, when set with Mapper, reads the namespace of each object to create,
	// so that one in a namespace that does not exist fails (or, in a [Differ.Plan]
	// whose set creates that namespace, is predicted as declared). Objects that
	// exist cost no request.
	Client dynamic.Interface
}

// NewOffline returns an offline engine reading schemas from schemas.
func NewOffline(schemas SchemaSource, opts OfflineOptions) *Offline {
	b := merge.UpdaterBuilder{Converter: sameVersion{}, ReturnInputOnNoop: true}
	return &Offline{schemas: schemas, log: opts.Log, updater: b.BuildUpdater(), opts: opts}
}

// Predict merges req.Desired into req.Live as the API server would for an apply by
// req.FieldManager. Without Force, a conflict is a [*ConflictError].
func (o *Offline) Predict(ctx context.Context, req Request) (*Prediction, error) {
	config := stripForApply(req.Desired)
	dropNulls(config.Object)
	if req.Live == nil {
		if o.opts.Mapper != nil {
			if err := ssa.CheckNamespace(ctx, o.opts.Client, o.opts.Mapper, config); err != nil {
				return nil, err
			}
		}
		// As the API server's apply, a create fails on a value of the wrong type
		// or a field the schema does not know.
		tc, err := o.schemas.TypeConverter(ctx, config.GroupVersionKind())
		if err == nil {
			if _, err = tc.ObjectToTyped(config); err != nil {
				return nil, fmt.Errorf("type desired object: %w", err)
			}
		} else if !errors.Is(err, ErrNoSchema) {
			return nil, err
		}
		return &Prediction{Object: config}, nil
	}
	gvk := config.GroupVersionKind()
	p := &Prediction{}
	tc, err := o.schemas.TypeConverter(ctx, gvk)
	if err != nil {
		if !errors.Is(err, ErrNoSchema) {
			return nil, err
		}
		o.log.Info("no schema, lists and maps are merged atomically", "kind", gvk.String())
		p.Warnings = append(p.Warnings, fmt.Sprintf("no OpenAPI schema for %s: merged with deduced types, lists atomic", gvk))
		tc = managedfields.NewDeducedTypeConverter()
	}
	managers := req.managers
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
		return nil, fmt.Errorf("type desired object: %w", err)
	}
	liveTV, err := tc.ObjectToTyped(req.Live, typed.AllowDuplicates)
	if err != nil {
		return nil, fmt.Errorf("type live object: %w", err)
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
	if applied, err := configTV.ToFieldSet(); err == nil {
		keepAtomicDefaults(u, req.Live.Object, applied)
	}
	p.Object = &unstructured.Unstructured{Object: u}
	return p, nil
}

func offlineConflict(id object.ID, cs merge.Conflicts) error {
	ce := &ConflictError{ID: id}
	for _, c := range cs {
		ce.Conflicts = append(ce.Conflicts, fmt.Sprintf("%s (owned by %q)", c.Path, managerName(c.Manager)))
	}
	sort.Strings(ce.Conflicts)
	return ce
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

func emptyObject(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	return u
}
