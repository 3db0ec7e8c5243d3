package source

import (
	"io/fs"
	"os"
)

// DirFS returns a read-only file system for the directory dir that cannot be left:
// every open goes through [os.OpenInRoot], so ".." and symbolic links pointing
// outside dir fail instead of reading another part of the disk. Unlike an
// [os.Root], it holds no open file descriptor between calls.
//
// It implements [fs.FS], [fs.ReadLinkFS] and [fs.StatFS].
func DirFS(dir string) fs.FS { return rootFS(dir) }

type rootFS string

func (r rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := os.OpenInRoot(string(r), name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r rootFS) Stat(name string) (fs.FileInfo, error) {
	return withRoot(r, "stat", name, func(root *os.Root) (fs.FileInfo, error) { return root.Stat(name) })
}

func (r rootFS) Lstat(name string) (fs.FileInfo, error) {
	return withRoot(r, "lstat", name, func(root *os.Root) (fs.FileInfo, error) { return root.Lstat(name) })
}

func (r rootFS) ReadLink(name string) (string, error) {
	return withRoot(r, "readlink", name, func(root *os.Root) (string, error) { return root.Readlink(name) })
}

func withRoot[T any](r rootFS, op, name string, f func(*os.Root) (T, error)) (T, error) {
	var zero T
	if !fs.ValidPath(name) {
		return zero, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	root, err := os.OpenRoot(string(r))
	if err != nil {
		return zero, err
	}
	defer root.Close()
	return f(root)
}
