package reconcile_test

import (
	"slices"
	"testing"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/reconcile"
)

// annotatedCM is a ConfigMap manifest with one annotation.
func annotatedCM(name, value, key, ann string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations: {" + key + ": \"" + ann + "\"}\ndata:\n  key: \"" + value + "\"\n"
}

// TestPassSkipsWhatTheAnnotationsSay: objects the apply leaves alone by their
// annotations are no drift, so a pass neither applies nor prunes for them, and a
// pass that applies reports them as skipped.
func TestPassSkipsWhatTheAnnotationsSay(t *testing.T) {
	e := newGitEnv(t, map[string]string{
		"a.yaml":       cm("a", "1"),
		"seed.yaml":    annotatedCM("seed", "1", "kustomize.toolkit.fluxcd.io/ssa", "IfNotPresent"),
		"ignored.yaml": annotatedCM("ignored", "1", "kustomize.toolkit.fluxcd.io/ssa", "Ignore"),
		"kept.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n" +
			"    argocd.argoproj.io/sync-options: Prune=false\n    argocd.argoproj.io/compare-options: IgnoreExtraneous\ndata:\n  key: \"1\"\n",
	})
	rec := e.reconciler(reconcile.SelfHeal)
	id := func(name string) object.ID { return object.ID{Kind: "ConfigMap", Namespace: e.ns, Name: name} }

	res := e.pass(rec)
	got := res.Applied()
	slices.SortFunc(got, object.Compare)
	if !slices.Equal(got, []object.ID{id("a"), id("kept"), id("seed")}) || e.value("ignored") != "<absent>" {
		t.Fatalf("first pass: applied %v, ignored=%q", got, e.value("ignored"))
	}
	if !slices.Contains(res.Skipped(), id("ignored")) {
		t.Fatalf("first pass: skipped %v, want ignored", res.Skipped())
	}
	res = e.pass(rec)
	if !res.InSync() || res.Wrote {
		t.Fatalf("steady state: drift %v, wrote %v", res.Drift, res.Wrote)
	}

	// An edit of an IfNotPresent object is not drift: it is never updated.
	e.edit("seed", "edited")
	res = e.pass(rec)
	if !res.InSync() || res.Wrote || e.value("seed") != "edited" {
		t.Fatalf("IfNotPresent edited: drift %v, wrote %v, seed=%q", res.Drift, res.Wrote, e.value("seed"))
	}
	for _, c := range res.Plan.Changes {
		if c.ID == id("seed") && (c.Action != diff.None || c.Reason == "") {
			t.Fatalf("seed planned %v (%q), want None with a reason", c.Action, c.Reason)
		}
	}

	// kept leaves the set: prune keeps it and IgnoreExtraneous makes it no drift.
	e.commit("remove kept", map[string]string{"kept.yaml": ""})
	res = e.pass(rec)
	if !res.InSync() || e.value("kept") != "1" {
		t.Fatalf("extraneous: drift %v, kept=%q", res.Drift, e.value("kept"))
	}

	// A change elsewhere applies the set: the skipped objects stay as they are.
	e.commit("change a", map[string]string{"a.yaml": cm("a", "2")})
	res = e.pass(rec)
	if !slices.Equal(res.Applied(), []object.ID{id("a")}) || e.value("seed") != "edited" || e.value("ignored") != "<absent>" {
		t.Fatalf("change: applied %v, skipped %v, seed=%q, ignored=%q", res.Applied(), res.Skipped(), e.value("seed"), e.value("ignored"))
	}
	if s := res.Skipped(); !slices.Contains(s, id("seed")) || !slices.Contains(s, id("ignored")) {
		t.Fatalf("change: skipped %v, want seed and ignored", s)
	}
}
