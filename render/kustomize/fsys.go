package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/bounded"
)

// errReadOnly is returned by the write methods of the artifact file system.
var errReadOnly = errors.New("artifact file system is read-only")

// artifactFS presents an fs.FS to kustomize as a read-only file system whose root
// "/" is the artifact root, so no path kustomize computes can leave the artifact.
// rd, when set, bounds every file read to what the build may still read and sees
// each file read, which it may refuse or change; guard, when set, refuses the
// plugin configurations that name remote files.
type artifactFS struct {
	fsys  fs.FS
	rd    *reader
	guard *pluginGuard
}

var _ filesys.FileSystem = artifactFS{}

// rel maps a kustomize path to a path of the fs.FS ("." for the root).
func rel(name string) string {
	name = filepath.ToSlash(name)
	name = path.Clean("/" + name) // an absolute path is inside the artifact, ".." stops at its root
	if name == "/" {
		return "."
	}
	return name[1:]
}

// abs maps a path of the fs.FS to the absolute path kustomize sees.
func abs(name string) string {
	if name == "." {
		return "/"
	}
	return "/" + name
}

func (a artifactFS) Create(name string) (filesys.File, error) {
	return nil, &fs.PathError{Op: "create", Path: name, Err: errReadOnly}
}

func (a artifactFS) Mkdir(name string) error {
	return &fs.PathError{Op: "mkdir", Path: name, Err: errReadOnly}
}

func (a artifactFS) MkdirAll(name string) error {
	return &fs.PathError{Op: "mkdir", Path: name, Err: errReadOnly}
}

func (a artifactFS) RemoveAll(name string) error {
	return &fs.PathError{Op: "remove", Path: name, Err: errReadOnly}
}

func (a artifactFS) WriteFile(name string, _ []byte) error {
	return &fs.PathError{Op: "write", Path: name, Err: errReadOnly}
}

func (a artifactFS) Open(name string) (filesys.File, error) {
	f, err := a.fsys.Open(rel(name))
	if err != nil {
		return nil, err
	}
	return file{f}, nil
}

func (a artifactFS) IsDir(name string) bool {
	fi, err := fs.Stat(a.fsys, rel(name))
	return err == nil && fi.IsDir()
}

func (a artifactFS) Exists(name string) bool {
	_, err := fs.Stat(a.fsys, rel(name))
	return err == nil
}

func (a artifactFS) ReadDir(name string) ([]string, error) {
	es, err := fs.ReadDir(a.fsys, rel(name))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name()
	}
	return out, nil
}

func (a artifactFS) CleanedAbs(name string) (filesys.ConfirmedDir, string, error) {
	r := rel(name)
	fi, err := fs.Stat(a.fsys, r)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", abs(r), err)
	}
	if fi.IsDir() {
		return filesys.ConfirmedDir(abs(r)), "", nil
	}
	return filesys.ConfirmedDir(abs(path.Dir(r))), path.Base(r), nil
}

func (a artifactFS) Glob(pattern string) ([]string, error) {
	ms, err := fs.Glob(a.fsys, rel(pattern))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if !strings.HasPrefix(path.Base(m), ".") || strings.HasPrefix(path.Base(pattern), ".") {
			out = append(out, abs(m))
		}
	}
	return out, nil
}

func (a artifactFS) ReadFile(name string) ([]byte, error) {
	r := rel(name)
	if a.rd == nil {
		return fs.ReadFile(a.fsys, r)
	}
	// Read no more than the build may still read: a giant file is refused after
	// reading at most the limit, not read whole first.
	data, err := bounded.ReadFile(a.fsys, r, a.rd.maxBytes-a.rd.bytes)
	if errors.Is(err, bounded.ErrTooLarge) {
		return nil, a.rd.fail(fmt.Errorf("%s: %w: read more than %d bytes", abs(r), render.ErrLimit, a.rd.maxBytes))
	}
	if err != nil {
		return nil, err
	}
	if a.guard != nil {
		if err := a.guard.check(abs(r), data); err != nil {
			return nil, a.rd.fail(err)
		}
	}
	return a.rd.read(abs(r), data)
}

func (a artifactFS) Walk(root string, walkFn filepath.WalkFunc) error {
	return fs.WalkDir(a.fsys, rel(root), func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return walkFn(abs(name), nil, err)
		}
		fi, err := d.Info()
		return walkFn(abs(name), fi, err)
	})
}

// file is a read-only filesys.File.
type file struct{ fs.File }

func (f file) Write([]byte) (int, error) { return 0, errReadOnly }

func (f file) Stat() (os.FileInfo, error) { return f.File.Stat() }
