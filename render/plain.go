package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/gitopskit/gitopskit/object"
)

// defaultInclude selects the files a plain directory renders by default.
var defaultInclude = []string{"*.yaml", "*.yml", "*.json"}

// Plain renders a directory of YAML and JSON manifests: every file selected by
// Options.Include and not by Options.Exclude, recursively, in lexical path order,
// each decoded with object.Decode. Symlinked directories are not followed (they
// are reported as warnings); symlinked files are read through Input.FS, which
// refuses those leaving the root. Two files declaring the same object are an error
// wrapping object.ErrDuplicate (objects named by generateName, such as hook Jobs,
// are each a new object). The zero value is ready to use and safe for
// concurrent use.
type Plain struct{}

// Render renders the plain directory in.Dir. A directory below it that holds a
// kustomization or a Chart.yaml is not plain YAML: Render fails naming it and
// the file that makes it one, unless Options.Exclude skips it ([Auto] renders
// it with the right renderer).
func (Plain) Render(ctx context.Context, in Input, opts Options) (*Result, error) {
	return renderPlain(ctx, in, opts, nil)
}

// nestedFunc renders in.Dir, a directory of the given kind found below a plain
// directory.
type nestedFunc func(ctx context.Context, in Input, kind Kind, opts Options) (*Result, error)

// renderPlain renders a plain directory, and the kustomizations and charts below
// it with nested (nil: they are an error).
func renderPlain(ctx context.Context, in Input, opts Options, nested nestedFunc) (*Result, error) {
	dir, err := in.dir()
	if err != nil {
		return nil, err
	}
	include := opts.Include
	if len(include) == 0 {
		include = defaultInclude
	}
	inc, err := compileGlobs(include)
	if err != nil {
		return nil, fmt.Errorf("render %s: include: %w", dir, err)
	}
	exc, err := compileGlobs(opts.Exclude)
	if err != nil {
		return nil, fmt.Errorf("render %s: exclude: %w", dir, err)
	}
	p := plainRun{
		ctx:    ctx,
		fsys:   in.FS,
		dir:    dir,
		limits: opts.Limits.WithDefaults(),
		seen:   map[object.ID]object.Origin{},
		res:    &Result{Renderer: string(KindPlain)},
	}
	err = fs.WalkDir(in.FS, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := relTo(dir, name)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if exc.match(rel) {
				return fs.SkipDir
			}
			return p.subdir(name, in, opts, nested)
		}
		if !inc.match(rel) || exc.match(rel) {
			return nil
		}
		return p.file(name, d)
	})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	return p.res, nil
}

// relTo returns name relative to dir, both slash-separated and clean.
func relTo(dir, name string) string {
	if dir == "." {
		return name
	}
	if name == dir {
		return "."
	}
	return name[len(dir)+1:]
}

// subdir renders dir with nested when it holds a kustomization or a chart, and
// returns fs.SkipDir then; a plain directory is walked on.
func (p *plainRun) subdir(dir string, in Input, opts Options, nested nestedFunc) error {
	kind, file, err := inputAt(p.fsys, dir)
	if err != nil || kind == KindPlain {
		return err
	}
	if nested == nil {
		what := map[Kind]string{KindKustomize: "a kustomization", KindHelm: "a Helm chart"}[kind]
		return fmt.Errorf("%s/ is %s (%s), not plain YAML: render it with render.Auto or the %s renderer, or exclude it: %w",
			dir, what, file, kind, ErrNestedInput)
	}
	res, err := nested(p.ctx, Input{FS: in.FS, Dir: dir, Digest: in.Digest}, kind, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	for _, m := range res.Manifests {
		if err := p.add(m); err != nil {
			return err
		}
	}
	p.res.Manifests = append(p.res.Manifests, res.Manifests...)
	if err := p.limits.Check(len(p.res.Manifests), 0); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	p.res.Warnings = append(p.res.Warnings, res.Warnings...)
	return fs.SkipDir
}

// plainRun is the state of one Plain.Render.
type plainRun struct {
	ctx    context.Context
	fsys   fs.FS
	dir    string
	limits Limits
	seen   map[object.ID]object.Origin
	bytes  int64
	res    *Result
}

func (p *plainRun) file(name string, d fs.DirEntry) error {
	if d.Type()&fs.ModeSymlink != 0 {
		fi, err := fs.Stat(p.fsys, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if fi.IsDir() {
			p.res.Warnings = append(p.res.Warnings, name+": symlinked directory not followed")
			return nil
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
	} else if !d.Type().IsRegular() {
		return nil
	}
	f, err := p.fsys.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	left := p.limits.MaxObjects - len(p.res.Manifests)
	size := p.limits.MaxBytes - p.bytes
	if left <= 0 || size <= 0 {
		return fmt.Errorf("%s: %w", name, p.limits.Check(len(p.res.Manifests)+1, p.bytes+1))
	}
	// A file larger than what is left is refused before it is read; the decoder
	// bounds the others as it reads (a file may grow after Stat).
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > size {
		return fmt.Errorf("%s: %w", name, p.limits.Check(len(p.res.Manifests), p.bytes+fi.Size()))
	}
	cr := &countingReader{r: f}
	ms, err := object.Decoder{MaxObjects: left, MaxBytes: size}.Decode(cr, name)
	if err != nil {
		if errors.Is(err, object.ErrLimit) {
			return fmt.Errorf("%w: %w", ErrLimit, err)
		}
		return err
	}
	p.bytes += cr.n
	for _, m := range ms {
		if err := p.add(m); err != nil {
			return err
		}
	}
	p.res.Manifests = append(p.res.Manifests, ms...)
	return nil
}

// add records m's object, failing when another file declared it already.
func (p *plainRun) add(m object.Manifest) error {
	id := object.IDOf(m.Object)
	if id.Name == "" {
		return nil // named by the server (generateName): each is a new object
	}
	if prev, ok := p.seen[id]; ok {
		return fmt.Errorf("%s: %w: %s, declared first at %s", m.Origin, object.ErrDuplicate, id, prev)
	}
	p.seen[id] = m.Origin
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
