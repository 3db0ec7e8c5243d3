package testtool

import (
	"os"
	"testing"
)

func TestRequireFindsProgram(t *testing.T) {
	if p := Require(t, "sh"); p == "" {
		t.Fatal("sh not found")
	}
}

func TestMissingFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		Require(ft, "no-such-program-gitopskit")
	}()
	if !ft.fatal || ft.skipped {
		t.Fatalf("in CI a missing program must fail the test, got fatal=%v skipped=%v", ft.fatal, ft.skipped)
	}
	os.Setenv("CI", "")
	ft = &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }()
		Require(ft, "no-such-program-gitopskit")
	}()
	if ft.fatal || !ft.skipped {
		t.Fatalf("outside CI a missing program skips the test, got fatal=%v skipped=%v", ft.fatal, ft.skipped)
	}
}

// fakeT records Fatal and Skip instead of ending the test; both stop the caller the
// way the real ones do, by panicking out of it.
type fakeT struct {
	testing.TB
	fatal, skipped bool
}

func (f *fakeT) Helper()      {}
func (f *fakeT) Fatal(...any) { f.fatal = true; panic("fatal") }
func (f *fakeT) Skip(...any)  { f.skipped = true; panic("skip") }
