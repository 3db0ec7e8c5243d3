package diff_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/internal/applytest"
	"github.com/gitopskit/gitopskit/object"
)

// TestPlanIsWhatApplyDoes runs every apply scenario of internal/applytest with
// each engine: it plans the set, dry-runs its apply, applies it, and checks that
// the plan said, object by object, what both did: the outcome, the fields the
// apply changed, the fields it left to other managers and, from the server engine,
// the object it left. Where an immutable field changes, the offline engine, which
// cannot know it, is held to the update the scenario says it predicts instead.
func TestPlanIsWhatApplyDoes(t *testing.T) {
	for _, s := range applytest.Scenarios {
		for _, engine := range []string{"server", "offline"} {
			t.Run(s.Name+"/"+engine, func(t *testing.T) {
				e := newEnv(t)
				env := applytest.Env{Dynamic: e.dyn, Mapper: e.mapper, Namespace: e.ns}
				s.Prepare(t, env)
				ms := env.Decode(t, s.Desired)
				objs := object.Objects(ms)
				before := env.Live(t, objs)

				server, offline := e.differs(diff.Options{Force: s.Force, Recreate: s.Recreate})
				d := map[string]*diff.Differ{"server": server, "offline": offline}[engine]
				in := diff.Input{Desired: objs, Live: values(before), Origins: map[object.ID]object.Origin{}}
				for _, m := range ms {
					in.Origins[object.IDOf(m.Object)] = m.Origin
				}
				plan, _ := d.Plan(e.ctx, in)
				require.NotNil(t, plan)

				m, err := apply.NewForConfig(cluster.Config(t), apply.Options{})
				require.NoError(t, err)
				outcomes := map[bool]map[string]string{}
				for _, dryRun := range []bool{true, false} {
					res, _ := m.Apply(context.Background(), objs, apply.ApplyOptions{Force: s.Force, Recreate: s.Recreate, DryRun: dryRun})
					outcomes[dryRun] = map[string]string{}
					for _, ev := range res.Events {
						outcomes[dryRun][env.Key(ev.ID)] = applytest.Applied(ev)
					}
				}
				after := env.Live(t, objs)

				for _, c := range plan.Changes {
					key := env.Key(c.ID)
					got, want := planned(c), s.Want[key]
					offlinePaths, blind := s.Offline[key]
					if blind && engine == "offline" {
						want = "configured"
					}
					assert.Equal(t, want, got, "%s: the plan", key)
					assert.Equal(t, s.Want[key], outcomes[false][key], "%s: the apply", key)
					assert.Equal(t, s.Outcome(key, true), outcomes[true][key], "%s: the dry run", key)
					assert.Equal(t, s.Foreign[key], c.Foreign, "%s: foreign fields", key)
					switch {
					case blind && engine == "offline":
						assert.Equal(t, offlinePaths, c.Paths, "%s: paths the offline engine predicts", key)
					case c.Action == diff.Update:
						assert.Equal(t, s.Changed[key], c.Paths, "%s: paths", key)
						assert.Equal(t, diff.ChangedPaths(before[key], after[key]), c.Paths, "%s: paths the apply changed", key)
					}
					if engine == "server" && c.Action != diff.Delete && !c.Recreate && c.Predicted != nil {
						assert.Empty(t, diff.ChangedPaths(after[key], c.Predicted), "%s: the object the apply left", key)
					}
				}
				for _, f := range plan.Failed {
					key := env.Key(f.ID)
					assert.Equal(t, s.Want[key], failure(f), "%s: the plan: %v", key, f)
					assert.Equal(t, s.Want[key], outcomes[false][key], "%s: the apply", key)
					assert.Equal(t, s.Outcome(key, true), outcomes[true][key], "%s: the dry run", key)
					assert.Equal(t, "desired.yaml", f.Origin.File, "%s: the error names the file", key)
				}
				assert.Equal(t, len(s.Want), len(plan.Changes)+len(plan.Failed), "a change or a failure per object")

				// Applied, the set is in sync: the plan is None for what applied.
				again, _ := d.Plan(e.ctx, diff.Input{Desired: objs, Live: values(after)})
				for _, c := range again.Changes {
					if w := s.Want[env.Key(c.ID)]; w != applytest.Conflict && w != applytest.Immutable {
						assert.Equal(t, diff.None, c.Action, "%s after the apply: %v", c.ID, c.Paths)
					}
				}
			})
		}
	}
}

func values(m map[string]*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	return out
}

// planned names a change as the apply scenarios name outcomes.
func planned(c *diff.Change) string {
	switch {
	case c.Action == diff.Create:
		return "created"
	case c.Action == diff.None && c.Reason != "":
		return "skipped"
	case c.Action == diff.None:
		return "unchanged"
	case c.Recreate:
		return "recreated"
	case c.Action == diff.Update:
		return "configured"
	}
	return c.Action.String()
}

// failure names a failed diff as the apply scenarios name failures.
func failure(f *object.Error) string {
	var conflict *apply.ConflictError
	switch {
	case errors.As(f, &conflict):
		return applytest.Conflict
	case apierrors.IsInvalid(f) && strings.Contains(f.Error(), "immutable"):
		return applytest.Immutable
	case applytest.IsUnknownField(f):
		return applytest.Invalid
	}
	return f.Error()
}
