package isolate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/source"
)

// envTest makes this test binary misbehave as a child, for the tests of what
// the parent does then: "nohook" skips the hook (the test binary's flag parsing
// refuses the child's argument), "hang" skips it and never ends (a server
// without the hook), "crash" panics in the child while it renders.
const envTest = "ISOLATE_TEST_CHILD"

// envInProcess runs the hostile inputs in process instead, to show what the
// isolation prevents (the test binary dies or the test times out).
const envInProcess = "ISOLATE_TEST_INPROCESS"

func TestMain(m *testing.M) {
	switch os.Getenv(envTest) {
	case "nohook":
		m.Run()
		return
	case "hang":
		if len(os.Args) == 2 && os.Args[1] == childArg {
			select {}
		}
	case "crash":
		if len(os.Args) == 2 && os.Args[1] == childArg {
			go func() {
				time.Sleep(300 * time.Millisecond)
				panic("password=hunter2")
			}()
		}
	}
	if Child() {
		return
	}
	os.Exit(m.Run())
}

var full = Spec{Kustomize: &KustomizeSpec{}, Helm: &HelmSpec{}}

// artifact is a kustomization, a chart and plain YAML.
var artifact = fstest.MapFS{
	"base/kustomization.yaml": {Data: []byte("resources: [service.yaml]\nconfigMapGenerator: [{name: cfg, literals: [a=b]}]\n")},
	"base/service.yaml":       {Data: []byte("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n")},
	"prod/kustomization.yaml": {Data: []byte("namespace: prod\nresources: [../base]\ncommonLabels: {env: prod}\n")},
	"chart/Chart.yaml":        {Data: []byte("apiVersion: v2\nname: web\nversion: 1.0.0\n")},
	"chart/values.yaml":       {Data: []byte("replicas: 1\nratio: 1.0\nhalf: 0.5\n")},
	"chart/templates/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {replicas: \"{{ .Values.replicas }}\"}\n")},
	"chart/templates/d.yaml":  {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: {{ .Values.replicas }}\n  x: {{ .Values.ratio }}\n  y: {{ .Values.half }}\n  z: 1e3\n")},
	"plain/app.yaml":          {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {k: v}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {n: 2.0, m: 3, f: 0.25, b: true, z: null, l: [1, 1.5, x]}\n")},
}

// onDisk writes fsys to a directory and returns it.
func onDisk(t *testing.T, fsys fs.FS) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, fsys); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSameResult renders a kustomization, a chart and plain YAML in process and
// in a child, from memory (streamed as a tar) and from each kind of directory on
// disk, and wants the same result, down to the Go types of numbers.
func TestSameResult(t *testing.T) {
	ctx := context.Background()
	dir := onDisk(t, artifact)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	inputs := map[string]fs.FS{"memory": artifact, "source.DirFS": source.DirFS(dir), "os.Root": root.FS(), "os.DirFS": os.DirFS(dir)}
	opts := render.Options{Helm: render.HelmOptions{ReleaseName: "shop", Set: []string{"replicas=3"}}}
	r := New(Options{Spec: full})
	for name, fsys := range inputs {
		if _, kind := diskRoot(fsys); (kind == "") != (name == "memory") {
			t.Errorf("%s: diskRoot kind %q", name, kind)
		}
		for _, d := range []string{"prod", "chart", "plain"} {
			in := render.Input{FS: fsys, Dir: d}
			want, err := full.InProcess().Render(ctx, in, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Render(ctx, in, opts)
			if err != nil {
				t.Fatalf("%s %s: %v", name, d, err)
			}
			if len(want.Manifests) < 2 {
				t.Fatalf("%s: %d objects", d, len(want.Manifests))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: isolated result differs:\n got %#v\nwant %#v", name, d, got.Manifests, want.Manifests)
			}
		}
	}
}

// TestRenderError wants a render's own errors to cross from the child with
// their message and what errors.Is and errors.As find in them.
func TestRenderError(t *testing.T) {
	ctx := context.Background()
	r := New(Options{Spec: full})
	for _, tc := range []struct {
		name     string
		fsys     fstest.MapFS
		dir      string
		sentinel error
	}{
		{"outside root", fstest.MapFS{"kustomization.yaml": {Data: []byte("resources: [../x]\n")}}, ".", render.ErrOutsideRoot},
		{"no renderer", fstest.MapFS{"k/kustomization.yaml": {Data: []byte("resources: []\n")}}, "k", render.ErrNoRenderer},
		{"duplicate key", fstest.MapFS{"p/a.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: 1, k: 2}\n")}}, "p", object.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := r
			if tc.sentinel == render.ErrNoRenderer {
				rr = New(Options{})
			}
			in := render.Input{FS: tc.fsys, Dir: tc.dir}
			_, want := rr.local.Render(ctx, in, render.Options{})
			_, err := rr.Render(ctx, in, render.Options{})
			if want == nil || err == nil || err.Error() != want.Error() {
				t.Fatalf("error %v, want %v", err, want)
			}
			if !errors.Is(err, tc.sentinel) || !errors.Is(want, tc.sentinel) {
				t.Errorf("error %v is not %v", err, tc.sentinel)
			}
			var de, wde *object.DecodeError
			if errors.As(want, &wde) && (!errors.As(err, &de) || de.Origin != wde.Origin) {
				t.Errorf("error %v: DecodeError %+v, want %+v", err, de, wde)
			}
		})
	}
}

// hostile are inputs that end or hang the process that renders them in process.
func hostile(t *testing.T) map[string]struct {
	in      render.Input
	timeout time.Duration
	limit   string
} {
	t.Helper()
	// An alias bomb: 9^9 strings from a few hundred bytes.
	bomb := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += fmt.Sprintf("  %s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	var docs strings.Builder
	for i := range 30000 {
		fmt.Fprintf(&docs, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {k: v%d}\n", i, i)
	}
	chart := func(tmpl, values string) fstest.MapFS {
		return fstest.MapFS{
			"c/Chart.yaml":          {Data: []byte("apiVersion: v2\nname: c\nversion: 1.0.0\n")},
			"c/values.yaml":         {Data: []byte(values)},
			"c/templates/all.yaml":  {Data: []byte(tmpl)},
			"c/templates/_one.tpl":  {Data: []byte("")},
			"c/templates/cm.yaml":   {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")},
			"c/templates/NOTES.txt": {Data: []byte("")},
		}
	}
	return map[string]struct {
		in      render.Input
		timeout time.Duration
		limit   string
	}{
		"alias bomb": {render.Input{FS: fstest.MapFS{
			"k/kustomization.yaml": {Data: []byte("resources: [bomb.yaml]\n")},
			"k/bomb.yaml":          {Data: []byte(bomb)},
		}, Dir: "k"}, time.Minute, LimitMemory},
		"tpl recursion": {render.Input{FS: chart("t: {{ tpl .Values.t . }}\n", "t: '{{ tpl .Values.t . }}'\n"), Dir: "c"}, time.Minute, LimitMemory},
		"range until":   {render.Input{FS: chart("{{ range until 100000 }}{{ range until 100000 }}x{{ end }}{{ end }}\n", ""), Dir: "c"}, 5 * time.Second, ""},
		// The same loop without output: CPU time only, no memory.
		"spin": {render.Input{FS: chart("{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n", ""), Dir: "c"}, 5 * time.Second, LimitWall},
		"30,000 documents": {render.Input{FS: fstest.MapFS{
			"k/kustomization.yaml": {Data: []byte("resources: [all.yaml]\n")},
			"k/all.yaml":           {Data: []byte(docs.String())},
		}, Dir: "k"}, 10 * time.Second, LimitWall},
	}
}

// TestHostile renders inputs that kill or hang a process rendering in process,
// and wants a *LimitError naming the limit, by the context's deadline (with a
// margin for a loaded machine), and this process alive. With
// ISOLATE_TEST_INPROCESS=1 it renders them in process instead: the test binary
// dies ("fatal error: ...") or overruns its deadline.
func TestHostile(t *testing.T) {
	const margin = 5 * time.Second
	var r render.Renderer = New(Options{Spec: full, Limits: Limits{Memory: 512 << 20}})
	if os.Getenv(envInProcess) != "" {
		r = full.InProcess()
	}
	for name, tc := range hostile(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := r.Render(ctx, tc.in, render.Options{})
			took := time.Since(start)
			t.Logf("%s: %v after %s", name, err, took.Round(time.Millisecond))
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, render.ErrLimit) {
				t.Fatalf("error %v, want a *LimitError", err)
			}
			if tc.limit != "" && le.Limit != tc.limit {
				t.Errorf("limit %s, want %s", le.Limit, tc.limit)
			}
			if le.Limit == LimitWall && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v is not the context's deadline", err)
			}
			if took > tc.timeout+margin {
				t.Errorf("returned after %s, deadline %s", took, tc.timeout)
			}
		})
	}
}

// TestLimits wants each limit of the child reported as itself: CPU time, the
// wall time of the options, and the output.
func TestLimits(t *testing.T) {
	spin := hostile(t)["spin"].in
	for _, tc := range []struct {
		limits Limits
		opts   render.Options
		in     render.Input
		want   string
	}{
		{Limits{CPU: time.Second}, render.Options{}, spin, LimitCPU},
		{Limits{Wall: time.Second}, render.Options{}, spin, LimitWall},
		{Limits{Output: 100}, render.Options{}, render.Input{FS: artifact, Dir: "plain"}, LimitOutput},
		{Limits{Input: 10}, render.Options{}, render.Input{FS: artifact, Dir: "plain"}, LimitInput},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := New(Options{Spec: full, Limits: tc.limits}).Render(context.Background(), tc.in, tc.opts)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.want || !errors.Is(err, render.ErrLimit) {
				t.Fatalf("error %v, want the %s limit", err, tc.want)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v: the context had no deadline", err)
			}
		})
	}
}

// TestCanceled wants a canceled render to end its child and return the
// context's error.
func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	_, err := New(Options{Spec: full}).Render(ctx, hostile(t)["spin"].in, render.Options{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, render.ErrLimit) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestNoHook starts children that lack the hook: one that refuses the argument
// and one that never answers. Both are ErrNoHook, and a process started as a
// child that renders starts no child of its own.
func TestNoHook(t *testing.T) {
	in := render.Input{FS: artifact, Dir: "plain"}
	t.Run("exits", func(t *testing.T) {
		t.Setenv(envTest, "nohook")
		_, err := New(Options{}).Render(context.Background(), in, render.Options{})
		if !errors.Is(err, ErrNoHook) || !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Fatalf("error %v, want ErrNoHook with the child's complaint", err)
		}
	})
	t.Run("hangs", func(t *testing.T) {
		t.Setenv(envTest, "hang")
		start := time.Now()
		_, err := New(Options{Limits: Limits{Wall: 2 * time.Second}}).Render(context.Background(), in, render.Options{})
		if !errors.Is(err, ErrNoHook) {
			t.Fatalf("error %v, want ErrNoHook", err)
		}
		t.Logf("%v after %s", err, time.Since(start))
	})
	t.Run("child", func(t *testing.T) {
		t.Setenv(envNonce, "x")
		r := New(Options{})
		r.exe = filepath.Join(t.TempDir(), "missing") // never started
		_, err := r.Render(context.Background(), in, render.Options{})
		if !errors.Is(err, ErrNoHook) {
			t.Fatalf("error %v, want ErrNoHook", err)
		}
	})
}

// TestCrash wants a child that dies of something else than a limit reported as
// a *CrashError with the end of its stderr, without the panic's value.
func TestCrash(t *testing.T) {
	t.Setenv(envTest, "crash")
	_, err := New(Options{Spec: full}).Render(context.Background(), hostile(t)["spin"].in, render.Options{})
	var ce *CrashError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "panic: (value withheld)") || errors.Is(err, render.ErrLimit) {
		t.Fatalf("error %v, want a *CrashError", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v shows the panic's value", err)
	}
	if len(ce.Stderr) > stderrHead+stderrLines+2 {
		t.Errorf("%d lines of stderr", len(ce.Stderr))
	}
}

// TestTail checks what a CrashError keeps of a child's stderr: the first lines,
// "...", the last ones, each cut, and no panic value.
func TestTail(t *testing.T) {
	var tl tail
	fmt.Fprintf(&tl, "panic: secret line one\nsecret line two\n\ngoroutine 1 [running]:\n")
	fmt.Fprintf(&tl, "panic: runtime error: index out of range [3] with length 3\n")
	for i := range 40 {
		fmt.Fprintf(&tl, "frame %d %s\n", i, strings.Repeat("x", 400))
	}
	fmt.Fprint(&tl, "no newline")
	got := tl.lines()
	if len(got) != stderrHead+1+stderrLines+1 || got[0] != "panic: (value withheld)" || got[1] != "goroutine 1 [running]:" ||
		!strings.HasPrefix(got[2], "panic: runtime error") || got[3] != "..." || got[len(got)-1] != "no newline" {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
	for _, l := range got {
		if len(l) > stderrLineBytes || strings.Contains(l, "secret") {
			t.Errorf("line %q", l)
		}
	}
}
