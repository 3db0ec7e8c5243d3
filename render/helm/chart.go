package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"helm.sh/helm/v3/pkg/ignore"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/bounded"
)

// maxLinkDepth bounds how many symlinked directories a chart walk goes through,
// which also stops symlink loops.
const maxLinkDepth = 8

// loadChart reads the chart in dir of fsys, honouring its .helmignore, with at
// most maxBytes in all. Symlinks are followed through fsys, which refuses those
// leaving the artifact.
func loadChart(fsys fs.FS, dir string, maxBytes int64) (Chart, error) {
	if !fs.ValidPath(dir) {
		return Chart{}, fmt.Errorf("chart %q: %w", dir, render.ErrOutsideRoot)
	}
	rules := ignore.Empty()
	if data, err := bounded.ReadFile(fsys, path.Join(dir, ignore.HelmIgnore), maxBytes); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return Chart{}, fmt.Errorf("%s: %w", path.Join(dir, ignore.HelmIgnore), err)
		}
	} else if errors.Is(err, bounded.ErrTooLarge) {
		return Chart{}, fmt.Errorf("%s: %w: chart larger than %d bytes", path.Join(dir, ignore.HelmIgnore), render.ErrLimit, maxBytes)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Chart{}, fmt.Errorf("%s: %w", path.Join(dir, ignore.HelmIgnore), err)
	}
	rules.AddDefaults()
	l := chartLoader{fsys: fsys, top: dir, rules: rules, maxBytes: maxBytes}
	if err := l.walk(dir, 0); err != nil {
		return Chart{}, err
	}
	return Chart{Dir: dir, Files: l.files}, nil
}

type chartLoader struct {
	fsys     fs.FS
	top      string
	rules    *ignore.Rules
	maxBytes int64
	bytes    int64
	files    []File
}

func (l *chartLoader) walk(root string, links int) error {
	return fs.WalkDir(l.fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rel := name[len(l.top):]
		if l.top == "." {
			rel = "/" + name
		}
		if rel == "" || rel == "/." {
			return nil // the chart's own directory
		}
		rel = rel[1:]
		var fi fs.FileInfo = entryInfo{d}
		if d.Type()&fs.ModeSymlink != 0 {
			if fi, err = fs.Stat(l.fsys, name); err != nil { // follows it, inside the artifact only
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if fi.IsDir() {
			if l.rules.Ignore(rel, fi) {
				return fs.SkipDir
			}
			if d.Type()&fs.ModeSymlink != 0 && name != root {
				if links >= maxLinkDepth {
					return fmt.Errorf("%s: more than %d symlinked directories", name, maxLinkDepth)
				}
				return l.walk(name, links+1)
			}
			return nil
		}
		if l.rules.Ignore(rel, fi) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", name)
		}
		data, err := bounded.ReadFile(l.fsys, name, l.maxBytes-l.bytes)
		if errors.Is(err, bounded.ErrTooLarge) {
			return fmt.Errorf("%s: %w: chart larger than %d bytes", name, render.ErrLimit, l.maxBytes)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		l.bytes += int64(len(data))
		l.files = append(l.files, File{Name: rel, Data: bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))})
		return nil
	})
}

// entryInfo is the FileInfo of a directory entry that is not a symlink: what
// the walk asks of it (a directory? a regular file?) without a stat, which
// through an os.Root is several system calls.
type entryInfo struct{ fs.DirEntry }

func (e entryInfo) Size() int64        { return 0 }
func (e entryInfo) Mode() fs.FileMode  { return e.Type() }
func (e entryInfo) ModTime() time.Time { return time.Time{} }
func (e entryInfo) Sys() any           { return nil }
