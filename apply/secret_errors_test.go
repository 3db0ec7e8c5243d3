package apply_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/internal/applytest"
)

// A Secret whose value is a map, a list, a number, a bool or a string the API
// server cannot decode fails to apply, and neither its event nor the returned
// error quotes the value: the API server's messages do (structured-merge-diff's
// "expected string, got &value.valueUnstructured{Value:…}").
func TestIllTypedSecretValuesNotInErrors(t *testing.T) {
	e := newEnv(t, apply.Options{})
	all := ""
	for _, s := range applytest.IllTypedSecrets {
		all += "---\n" + s.Manifest
	}
	for _, dryRun := range []bool{true, false} {
		res, err := e.m.Apply(context.Background(), e.objects(all), apply.ApplyOptions{DryRun: dryRun})
		require.Error(t, err)
		require.NotNil(t, res)
		failed := map[string]apply.Event{}
		for _, ev := range res.Events {
			failed[ev.ID.Name] = ev
		}
		for _, s := range applytest.IllTypedSecrets {
			ev, ok := failed[s.Name]
			require.True(t, ok, "no event for %s", s.Name)
			assert.Equal(t, apply.Failed, ev.Action, "%s (dry run %v)", s.Name, dryRun)
			require.Error(t, ev.Err, s.Name)
			t.Logf("dry run %v: %s", dryRun, ev.Err)
			s.AssertHidden(t, ev.Err.Error())
			s.AssertHidden(t, ev.Reason)
		}
		for _, s := range applytest.IllTypedSecrets {
			s.AssertHidden(t, err.Error())
		}
	}
}
