package diff

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/internal/redact"
	"github.com/gitopskit/gitopskit/internal/scope"
	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/object"
)

// Options configures a [Differ].
type Options struct {
	// FieldManager is the server-side apply field manager whose last apply is the
	// third side of the three-way diff. Required.
	FieldManager string
	// Force predicts an apply that takes fields other managers own
	// (--force-conflicts). Without it, such a conflict is reported as a
	// [*apply.ConflictError] for that object.
	Force bool
	// CSAManagers are the field managers of kubectl's client-side apply whose
	// fields an apply migrates to FieldManager before it applies (see
	// apply.Options.CSAManagers); the diff predicts that migration: their fields
	// count as our last apply's, so one we no longer declare is a removal. Nil
	// means apply's default (kubectl-client-side-apply, kubectl and
	// before-first-apply); an empty, non-nil slice migrates nothing.
	CSAManagers []string
	// Recreate predicts an apply that deletes and recreates an object whose
	// immutable fields change (apply.ApplyOptions.Recreate); the annotation
	// gitopskit.io/recreate: enabled does so for one object. Without it, such a
	// change fails the object's diff, as it fails the apply. Only the [Server]
	// engine knows which fields are immutable.
	Recreate bool
	// ReportForeign counts fields that other managers own and our last apply did not
	// declare (see [Change.Foreign]) as drift. By default they are listed but are not
	// drift: an apply leaves them alone.
	ReportForeign bool
	// Ignore removes fields from the comparison.
	Ignore []IgnoreRule
	// MaskKey keys the hash in Secret placeholders. Empty means a random key per
	// Plan, so placeholders cannot be compared across plans; set it only to get
	// reproducible output (tests, examples).
	MaskKey []byte
	// Logger receives debug lines; unset, the
	// logger of the call's context (logr.FromContextOrDiscard).
	Logger logr.Logger
	// Mapper, when set, tells namespaced kinds from cluster-scoped ones, so that a
	// cluster-scoped object declared with a namespace (a ClusterRole in a file that
	// sets one) is diffed, and compared with its live copy and the inventory,
	// without it, as the API server stores it; the CRDs of a plan's desired set
	// are consulted first. Without it, objects are compared as declared: such an
	// object shows as created and its live copy as deleted.
	Mapper meta.RESTMapper
	// Concurrency bounds how many objects a Plan diffs at once; 0 means 16, as
	// apply's. The server engine makes one request per object, so this sets its
	// parallelism.
	Concurrency int
}

// Differ computes per-object changes and plans with one [Engine]. It is safe for
// concurrent use when its engine is.
type Differ struct {
	engine Engine
	opts   Options
	rules  []compiledRule
	csa    sets.Set[string]
}

// New returns a Differ over engine. It fails when FieldManager is empty
// ([ErrNoFieldManager]) or an ignore rule does not parse.
func New(engine Engine, opts Options) (*Differ, error) {
	if opts.FieldManager == "" {
		return nil, ErrNoFieldManager
	}
	rules, err := compileRules(opts.Ignore)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return &Differ{engine: engine, opts: opts, rules: rules, csa: ssa.CSASet(opts.CSAManagers)}, nil
}

// NewForConfig returns a Differ for the cluster of cfg: the [Offline] engine,
// typed by the cluster's OpenAPI schemas, with a RESTMapper that discovers kinds
// lazily (opts.Mapper when set) and reads discovery again for a kind it does not
// know. It makes no request until the first diff.
func NewForConfig(cfg *rest.Config, opts Options) (*Differ, error) {
	c, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return nil, err
	}
	if opts.Mapper == nil {
		opts.Mapper = c.Mapper
	}
	engine := NewOffline(NewClusterSchemas(c.Discovery.OpenAPIV3()), OfflineOptions{Mapper: opts.Mapper, Client: c.Dynamic, Logger: opts.Logger})
	return New(engine, opts)
}

// Diff returns the change an apply of desired would make to live (nil when the
// object does not exist). Errors are [*object.Error]s naming the object; a conflict
// without Force unwraps to a [*apply.ConflictError]. Secret values never appear in errors.
func (d *Differ) Diff(ctx context.Context, desired, live *unstructured.Unstructured) (*Change, error) {
	if desired == nil {
		return nil, errors.New("diff: nil desired object")
	}
	id := object.IDOf(desired)
	if d.opts.Mapper != nil {
		scoped, err := scope.New(d.opts.Mapper, nil).Object(desired)
		if err != nil {
			return nil, &object.Error{ID: id, Err: redact.Secret(err, desired, live)}
		}
		desired, id = scoped, object.IDOf(scoped)
	}
	c, err := d.diff(ctx, desired, live)
	if err != nil {
		return nil, &object.Error{ID: id, Err: redact.Secret(err, desired, live)}
	}
	return c, nil
}

func (d *Differ) diff(ctx context.Context, desired, live *unstructured.Unstructured) (*Change, error) {
	c := &Change{ID: object.IDOf(desired)}
	// As apply reads them: what it skips, how it writes.
	dir, err := apply.ParseDirectives(desired)
	if err != nil {
		return nil, err
	}
	if live != nil {
		c.Live = d.normalize(live)
	}
	if c.Reason = dir.Skip(live); c.Reason != "" || (dir.Replace && live != nil && ssa.Declared(desired, live)) {
		c.Predicted = c.Live
		return c, nil
	}
	req := Request{Desired: desired, Live: live, FieldManager: d.opts.FieldManager, Force: d.opts.Force,
		CSAManagers: d.opts.CSAManagers, Recreate: d.opts.Recreate || dir.Recreate, Replace: dir.Replace,
		SkipValidation: dir.SkipValidation}
	csa := d.csa
	if dir.SSA == apply.SSAMerge {
		req.Force, req.CSAManagers, csa = false, []string{}, nil
	}
	engine := d.engine
	if dir.ServerSideDiff || dir.Replace || dir.SkipValidation {
		if s := serverOf(engine); s != nil {
			engine = s
		} else {
			c.Warnings = append(c.Warnings, "its annotations ask for a server-side diff, but the engine has no cluster (OfflineOptions.Client and Mapper): predicted offline, as an apply")
		}
	}
	var managers fieldpath.ManagedFields
	if live != nil {
		// Parsed once here for both the engine and foreignFields: on a steady-state
		// set, reading managedFields is a large share of the work.
		if managers, err = liveManagers(live, csa, d.opts.FieldManager); err != nil {
			return nil, err
		}
	}
	var pred *Prediction
	if pe, ok := engine.(parsedEngine); ok {
		pred, err = pe.predictParsed(ctx, req, managers)
	} else {
		pred, err = engine.Predict(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	c.Warnings, c.Recreate, c.Typing = append(c.Warnings, pred.Warnings...), pred.Recreate, pred.Typing
	c.Predicted = d.normalize(pred.Object)
	if live == nil {
		c.Action = Create
		return c, nil
	}
	c.Paths = comparePaths(c.Live.Object, c.Predicted.Object)
	if c.Foreign, err = foreignFields(live, managers, d.opts.FieldManager); err != nil {
		return nil, err
	}
	if len(c.Paths) > 0 || (d.opts.ReportForeign && len(c.Foreign) > 0) {
		c.Action = Update
		// Replace=true with Force=true: a changed object is deleted and created.
		c.Recreate = c.Recreate || dir.ForceReplace
	}
	return c, nil
}

// serverOf returns the server engine that engine is or can make (an [Offline]
// engine with a Client and a Mapper), or nil.
func serverOf(engine Engine) *Server {
	switch e := engine.(type) {
	case *Server:
		return e
	case *Offline:
		if e.opts.Client != nil && e.opts.Mapper != nil {
			return NewServer(e.opts.Client, e.opts.Mapper)
		}
	}
	return nil
}

func (d *Differ) normalize(u *unstructured.Unstructured) *unstructured.Unstructured {
	n := normalize(u)
	applyIgnore(n, d.rules)
	return n
}

// deletion is the change for a prune candidate; live may be nil when the caller
// has only the inventory's ID. One that prune keeps and that is annotated
// IgnoreExtraneous (Argo CD's compare option) is no change: setDeleted says that
// the set is emptied.
func (d *Differ) deletion(id object.ID, live *unstructured.Unstructured, setDeleted bool) *Change {
	c := &Change{ID: id, Action: Delete, Live: d.normalize(live)}
	if live == nil {
		return c
	}
	if dir, err := apply.ParseDirectives(live); err == nil && dir.IgnoreExtraneous {
		if c.Reason = dir.Kept(setDeleted); c.Reason != "" {
			c.Action, c.Predicted = None, c.Live
		}
	}
	return c
}

// pending is the change for an object the API server cannot dry-run before the
// set's apply creates what it needs (its namespace, or the CRD of its kind): it is
// predicted as declared, as apply's dry run skips it, and why is the warning.
func (d *Differ) pending(desired *unstructured.Unstructured, why string) *Change {
	return &Change{
		ID: object.IDOf(desired), Action: Create, Predicted: d.normalize(stripForApply(desired)),
		Warnings: []string{why + ", so the API server could not check it: predicted as declared"},
	}
}
