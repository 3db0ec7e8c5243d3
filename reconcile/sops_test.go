package reconcile_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/sops"
)

// TestSOPSBadFileChangesNothing applies a repository holding a SOPS-encrypted
// file (render/sops' fixture, encrypted with the sops CLI), then commits it
// tampered with, then encrypted for another key: each such pass fails in the
// render, naming the file, and leaves the cluster as it was (no apply, no
// prune), although the same commit changes another file too.
func TestSOPSBadFileChangesNothing(t *testing.T) {
	key := readFixture(t, "test.agekey")
	enc := readFixture(t, "multi.yaml")
	d, err := sops.New(sops.Options{Keys: sops.Keys{Age: [][]byte{[]byte(key)}}})
	if err != nil {
		t.Fatal(err)
	}
	e := newGitEnv(t, map[string]string{"a.yaml": cm("a", "1"), "secrets.yaml": enc})
	e.renderer = sops.NewRenderer(render.Auto{}, d)
	rec := e.reconciler(reconcile.SelfHeal)
	ctx := context.Background()

	res := e.pass(rec)
	created := 0
	for _, c := range res.Plan.Changed() {
		if c.Action == diff.Create && c.Origin.File == "deploy/secrets.yaml" {
			created++
		}
	}
	if created != 3 {
		t.Fatalf("plan %+v, want the 3 objects of deploy/secrets.yaml created", res.Plan.Changed())
	}
	if got := e.secret("one"); got != "hunter2" {
		t.Fatalf("secret one password = %q", got)
	}
	good := rec.LastApplied()

	// A value moved to another key: the MAC catches it.
	lines := strings.Split(enc, "\n")
	var pw, phrase int
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "    password: ENC["):
			pw = i
		case strings.HasPrefix(l, "    phrase: ENC["):
			phrase = i
		}
	}
	lines[pw], lines[phrase] = "    password:"+strings.TrimPrefix(lines[phrase], "    phrase:"), "    phrase:"+strings.TrimPrefix(lines[pw], "    password:")
	tampered := strings.Join(lines, "\n")
	other, err := sops.New(sops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		content string
		want    error
		r       render.Renderer
	}{
		"tampered": {tampered, sops.ErrMAC, e.renderer},
		"no key":   {enc, sops.ErrNoKey, sops.NewRenderer(render.Auto{}, other)},
	} {
		e.commit(name, map[string]string{"a.yaml": cm("a", "2"), "secrets.yaml": c.content, "extra.yaml": cm("extra", "1")})
		e.renderer = c.r
		rec := e.reconciler(reconcile.SelfHeal)
		res, err := rec.Reconcile(ctx)
		if reconcile.FailedStage(err) != reconcile.StageRender || !errors.Is(err, c.want) || !strings.Contains(err.Error(), "deploy/secrets.yaml") {
			t.Fatalf("%s: got %v, want a render error naming deploy/secrets.yaml wrapping %v", name, err, c.want)
		}
		if strings.Contains(err.Error(), "hunter2") || res.Wrote {
			t.Fatalf("%s: error %v, wrote %v", name, err, res.Wrote)
		}
		if e.value("a") != "1" || e.value("extra") != "<absent>" || e.secret("one") != "hunter2" || e.secret("three") != "correct horse" {
			t.Fatalf("%s: the cluster changed: a=%q extra=%q", name, e.value("a"), e.value("extra"))
		}
		t.Log(err)
	}
	if rec.LastApplied() != good {
		t.Fatalf("last applied %q, want %q", rec.LastApplied(), good)
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../render/sops/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// secret returns the first value of Secret name's data, or "<absent>".
func (e *gitEnv) secret(name string) string {
	e.t.Helper()
	s, err := e.cs.CoreV1().Secrets(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return "<absent>"
	}
	for _, v := range s.Data {
		return string(v)
	}
	return ""
}
