package reconcile

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source"
)

// Source fetches the artifact a pass deploys. [source.Source] implementations, such
// as source/git's Repository and [source.Local], satisfy it.
type Source interface {
	Fetch(ctx context.Context) (*source.Artifact, error)
}

// Transformer changes rendered objects in place before they are diffed: a default
// namespace, common labels, variable substitution. On error it names the object.
type Transformer interface {
	Transform(ctx context.Context, res *render.Result) error
}

// TransformFunc is a function used as a [Transformer].
type TransformFunc func(ctx context.Context, res *render.Result) error

// Transform calls f.
func (f TransformFunc) Transform(ctx context.Context, res *render.Result) error { return f(ctx, res) }

// RenderTransform adapts render's post-render transforms to a [Transformer].
func RenderTransform(t render.Transform) Transformer {
	return TransformFunc(func(_ context.Context, res *render.Result) error { return t.Apply(res) })
}

// Differ compares the desired set with the cluster and returns the plan: a change
// per desired object, and a Delete change per object the inventory owns that the
// set no longer declares and that still exists. It writes nothing. Objects it could
// not compare go in Plan.Failed with the error; the returned error joins them. The
// pass sets each change's Origin itself.
type Differ interface {
	Diff(ctx context.Context, desired []*unstructured.Unstructured) (*diff.Plan, error)
}

// Applier writes a desired set to the cluster and prunes what left it.
//
// Apply applies the whole set (an implementation skips objects already as desired)
// and records its members; it must not delete anything. Prune deletes the members
// recorded earlier that desired no longer declares. The reconciler calls Prune only
// after Apply succeeded for every object. Both return a result per object, also on
// error, and report each result through opts.OnEvent as it happens.
type Applier interface {
	Apply(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions) ([]apply.Event, error)
	Prune(ctx context.Context, desired []*unstructured.Unstructured, opts ApplyOptions) ([]apply.Event, error)
}

// ApplyOptions are the settings of one [Applier] call.
type ApplyOptions struct {
	// DryRun writes nothing (a server-side dry run): results say what would happen.
	DryRun bool
	// AllowEmpty allows pruning every member when desired is empty.
	AllowEmpty bool
	// AllowPruneInUse prunes a Namespace or CustomResourceDefinition that still
	// holds objects (see apply.ApplyOptions.AllowPruneInUse).
	AllowPruneInUse bool
	// CreateNamespace creates the missing namespaces the set uses and does not
	// declare (see apply.ApplyOptions.CreateNamespace).
	CreateNamespace bool
	// OnEvent, when set, receives each object's result as it happens.
	OnEvent func(apply.Event)
	// Hooks runs the hooks of desired in their phases (see
	// apply.ApplyOptions.Hooks) instead of applying them as members, each
	// waited for up to HookTimeout (zero: until the context is done; a pass
	// gives its HealthTimeout). A pass sets it on the apply stage, and on the
	// prune stage when the set is empty (a deletion: PreDelete and PostDelete
	// hooks), with the hooks in desired; otherwise it gives the prune the
	// members only.
	Hooks       bool
	HookTimeout time.Duration
}

// HealthChecker tells the health of objects. Both methods return the statuses
// they know also on error.
type HealthChecker interface {
	// Health returns the statuses of ids as they are now.
	Health(ctx context.Context, ids []object.ID) (map[object.ID]health.Status, error)
	// Wait waits, within the context's deadline, until every object of ids is
	// Healthy or Suspended, reporting each change through progress (which may be
	// nil).
	Wait(ctx context.Context, ids []object.ID, progress func(object.ID, health.Status)) (map[object.ID]health.Status, error)
}
