package isolate

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/helm"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

// Default limits of a child process.
const (
	DefaultMemory = 1 << 30          // bytes of memory (RLIMIT_DATA)
	DefaultCPU    = time.Minute      // CPU time (RLIMIT_CPU)
	DefaultWall   = 2 * time.Minute  // wall-clock time
	handshakeWait = 10 * time.Second // for the child's first line, within the wall time
)

// Spec says which renderer the child runs. It is plain data, sent to the child as
// JSON: the child builds the renderer from it. The zero value is render.Auto with
// plain YAML only.
type Spec struct {
	// Kind forces one renderer (render.KindPlain, KindKustomize or KindHelm);
	// empty picks one per directory as render.Auto does, among Plain and those of
	// Kustomize and Helm that are set.
	Kind render.Kind `json:"kind,omitempty"`
	// Kustomize, when set, renders kustomizations with these options.
	Kustomize *KustomizeSpec `json:"kustomize,omitempty"`
	// Helm, when set, renders Helm charts with these options.
	Helm *HelmSpec `json:"helm,omitempty"`
}

// DefaultSpec returns the Spec of render.Auto with the kustomize and Helm
// renderers at their safe defaults: what the example programs render with.
func DefaultSpec() Spec {
	return Spec{Kustomize: &KustomizeSpec{}, Helm: &HelmSpec{}}
}

// KustomizeSpec are the kustomize.Options that cross to the child (all but the
// Logger).
type KustomizeSpec struct {
	LoadRestrictions kustomize.LoadRestrictions `json:"loadRestrictions,omitempty"`
	EnableHelm       bool                       `json:"enableHelm,omitempty"`
	HelmCommand      string                     `json:"helmCommand,omitempty"`
	AllowRemote      bool                       `json:"allowRemote,omitempty"`
}

// HelmSpec are the helm.Options that cross to the child: the V3 engine, and
// remote charts when Remote is set. A cluster's version is not asked by the
// child: set render.HelmOptions.KubeVersion to render for a cluster's version.
type HelmSpec struct {
	Remote *helm.RemoteOptions `json:"remote,omitempty"`
}

// Limits bound a child process. Zero fields take the defaults.
type Limits struct {
	// Memory bounds the child's data memory in bytes (default [DefaultMemory]);
	// the child's Go heap aims at 7/8 of it (GOMEMLIMIT).
	Memory int64
	// CPU bounds the child's CPU time, rounded up to seconds (default [DefaultCPU]).
	CPU time.Duration
	// Wall bounds the time from start to result (default [DefaultWall]); the
	// context's deadline, when earlier, bounds it too.
	Wall time.Duration
	// Output bounds what the child sends back in bytes (default: twice
	// render.Limits.MaxBytes plus 1 MiB, since JSON is about the size of YAML).
	Output int64
	// Input bounds the files streamed to the child when Input.FS is not a
	// directory on disk, such as a lazy Git checkout's (default: four times
	// render.Limits.MaxBytes, 256 MiB with the default).
	Input int64
}

// WithDefaults returns l with zero fields set to the defaults for a render with
// limits rl.
func (l Limits) WithDefaults(rl render.Limits) Limits {
	rl = rl.WithDefaults()
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.CPU <= 0 {
		l.CPU = DefaultCPU
	}
	if l.Wall <= 0 {
		l.Wall = DefaultWall
	}
	if l.Output <= 0 {
		l.Output = 2*rl.MaxBytes + 1<<20
	}
	if l.Input <= 0 {
		l.Input = 4 * rl.MaxBytes
	}
	return l
}

// Options configure a [Renderer].
type Options struct {
	// Spec is the renderer the child runs.
	Spec Spec
	// Limits bound each child.
	Limits Limits
}

// Renderer renders in a child process: the running program, started again from
// os.Executable, which must call [Child] first thing in main (see the package
// documentation). Each Render starts one child, bounded by Options.Limits and
// killed with its process group when the context ends; put a render.Cache in
// front so that a result already rendered starts none. A Renderer is safe for
// concurrent use.
type Renderer struct {
	opts  Options
	local render.Renderer // the same renderer in process, for Pin
	exe   string          // the program to start; os.Executable unless a test sets it
}

var (
	_ render.Renderer = (*Renderer)(nil)
	_ render.Pinner   = (*Renderer)(nil)
)

// New returns a Renderer with opts.
func New(opts Options) *Renderer {
	return &Renderer{opts: opts, local: opts.Spec.InProcess()}
}

// InProcess returns the renderer spec describes, running in this process: what a
// child runs.
func (s Spec) InProcess() render.Renderer {
	a := s.auto()
	switch s.Kind {
	case render.KindPlain:
		return a.Plain
	case render.KindKustomize:
		if a.Kustomize != nil {
			return a.Kustomize
		}
		return kustomize.New(kustomize.Options{})
	case render.KindHelm:
		if a.Helm != nil {
			return a.Helm
		}
		return helm.New(helm.Options{})
	}
	return a
}

func (s Spec) auto() render.Auto {
	a := render.Auto{Plain: render.Plain{}}
	if k := s.Kustomize; k != nil {
		a.Kustomize = kustomize.New(kustomize.Options{
			LoadRestrictions: k.LoadRestrictions, EnableHelm: k.EnableHelm,
			HelmCommand: k.HelmCommand, AllowRemote: k.AllowRemote,
		})
	}
	if h := s.Helm; h != nil {
		a.Helm = helm.New(helm.Options{Remote: h.Remote})
	}
	return a
}

// Pin returns what the in-process renderer pins (see render.Pinner): resolving a
// remote chart's version reads an index, it renders nothing.
func (r *Renderer) Pin(ctx context.Context, in render.Input, opts render.Options) (string, error) {
	if p, ok := r.local.(render.Pinner); ok {
		return p.Pin(ctx, in, opts)
	}
	return "", nil
}

// Render renders in in a child process and returns its result, as the in-process
// renderer of Options.Spec would. When the child exceeds a limit the error is a
// [*LimitError] (errors.Is render.ErrLimit); when the program lacks the [Child]
// hook it wraps [ErrNoHook]; when the child dies otherwise, a [*CrashError]
// carries the end of what it printed. Errors of the render itself keep their
// message and what errors.Is finds in them (render.ErrOutsideRoot, ErrLimit,
// ErrRemote, object.DecodeError with its origin, ...).
func (r *Renderer) Render(ctx context.Context, in render.Input, opts render.Options) (*render.Result, error) {
	if os.Getenv(envNonce) != "" {
		// This process is a child that did not run the hook: starting another
		// would start children without end.
		return nil, fmt.Errorf("render %s: %w (this process was started as a render child)", displayDir(in.Dir), ErrNoHook)
	}
	exe := r.exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("render %s: %w", displayDir(in.Dir), err)
		}
	}
	return run(ctx, exe, r.opts, in, opts)
}

func displayDir(d string) string {
	if d == "" {
		return "."
	}
	return d
}
