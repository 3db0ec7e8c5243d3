package reconcile_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/reconcile/fake"
)

// loggedDiffer logs to the logger of its context.
type loggedDiffer struct{ reconcile.Differ }

func (d loggedDiffer) Diff(ctx context.Context, desired []*unstructured.Unstructured) (*diff.Plan, error) {
	logr.FromContextOrDiscard(ctx).Info("diff stage")
	return d.Differ.Diff(ctx, desired)
}

// A controller's request-scoped logger, carried by the context, reaches the
// pass and every stage when Options.Logger is unset.
func TestLoggerFromContext(t *testing.T) {
	var lines []string
	log := funcr.New(func(_, args string) { lines = append(lines, args) }, funcr.Options{Verbosity: 1})
	src, cluster := &fake.Source{}, fake.NewCluster()
	r, err := reconcile.New(reconcile.Stages{Source: src, Differ: loggedDiffer{cluster}, Applier: cluster}, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src.Commit("main@sha1:1", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: demo}\n"})
	if _, err := r.Reconcile(logr.NewContext(context.Background(), log)); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{`"msg"="diff stage"`, `"msg"="reconciled"`} {
		if !strings.Contains(all, want) {
			t.Errorf("logged %q, want a line with %s", all, want)
		}
	}
}
