package apply_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/internal/applytest"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/object"
)

// TestApplyScenarios runs the apply scenarios that the diff package predicts
// (internal/applytest), a dry run first and then the apply, and checks what each
// reports for every object.
func TestApplyScenarios(t *testing.T) {
	for _, s := range applytest.Scenarios {
		t.Run(s.Name, func(t *testing.T) {
			e := newEnv(t, apply.Options{})
			kc, err := kube.NewForConfig(cluster.Config(t), kube.Options{})
			require.NoError(t, err)
			env := applytest.Env{Dynamic: e.dyn, Mapper: kc.Mapper, Namespace: e.ns}
			s.Prepare(t, env)
			objs := object.Objects(env.Decode(t, s.Desired))
			for _, dryRun := range []bool{true, false} {
				res, err := e.m.Apply(context.Background(), objs, apply.ApplyOptions{Force: s.Force, Recreate: s.Recreate, DryRun: dryRun})
				got, want := map[string]string{}, map[string]string{}
				for _, ev := range res.Events {
					key := env.Key(ev.ID)
					got[key], want[key] = applytest.Applied(ev), s.Outcome(key, dryRun)
				}
				assert.Equal(t, want, got, "dry run %v: %+v", dryRun, res.Events)
				assert.Len(t, got, len(s.Want), "an event per object")
				if res.Count(apply.Failed) == 0 {
					assert.NoError(t, err, "dry run %v", dryRun)
				}
			}
			if s.Check != nil {
				s.Check(t, env.Live(t, objs))
			}
		})
	}
}
