package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/render"
)

// generate returns the kustomization Flux's kustomize-controller writes into a
// directory that has none, or nil when dir has one: every subdirectory holding a
// kustomization as a base (not descended into), and every other .yaml and .yml
// file below dir as a resource, in lexical order, as "./" paths.
func generate(fsys fs.FS, dir string) ([]byte, error) {
	if ok, err := hasKustomization(fsys, dir); err != nil || ok {
		return nil, err
	}
	k := types.Kustomization{TypeMeta: types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind}}
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", name, err)
		case name == dir:
			return nil
		case d.IsDir():
			ok, err := hasKustomization(fsys, name)
			if err != nil || !ok {
				return err
			}
			k.Resources = append(k.Resources, "./"+relTo(dir, name))
			return fs.SkipDir
		}
		if ext := path.Ext(name); ext == ".yaml" || ext == ".yml" {
			k.Resources = append(k.Resources, "./"+relTo(dir, name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(k)
}

// hasKustomization reports whether dir holds one of render.KustomizationFiles.
func hasKustomization(fsys fs.FS, dir string) (bool, error) {
	for _, name := range render.KustomizationFiles {
		fi, err := fs.Stat(fsys, path.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return false, fmt.Errorf("%s: %w", path.Join(dir, name), err)
		}
		if !fi.IsDir() {
			return true, nil
		}
	}
	return false, nil
}

// relTo returns name, which is below dir, relative to dir.
func relTo(dir, name string) string {
	if dir == "." {
		return name
	}
	return strings.TrimPrefix(name, dir+"/")
}

// withFile is an fs.FS that holds one more file than its FS: the kustomization
// generate wrote, which exists only in memory.
type withFile struct {
	fs.FS
	file fstest.MapFS // one file
}

func newWithFile(fsys fs.FS, name string, data []byte) withFile {
	return withFile{FS: fsys, file: fstest.MapFS{name: {Data: data, Mode: 0o444}}}
}

func (w withFile) pick(name string) fs.FS {
	if _, ok := w.file[name]; ok {
		return w.file
	}
	return w.FS
}

func (w withFile) Open(name string) (fs.File, error) { return w.pick(name).Open(name) }

func (w withFile) Stat(name string) (fs.FileInfo, error) { return fs.Stat(w.pick(name), name) }

func (w withFile) ReadFile(name string) ([]byte, error) { return fs.ReadFile(w.pick(name), name) }
