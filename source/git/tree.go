package git

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// cleanEditPath checks a path a Change writes: relative, clean, not inside .git.
func cleanEditPath(p string) (string, error) {
	clean := path.Clean(p)
	if p == "" || clean != p || strings.HasPrefix(p, "/") || clean == "." || strings.HasPrefix(clean, "../") || clean == ".." {
		return "", fmt.Errorf("change path %q: want a clean relative path", p)
	}
	for _, seg := range strings.Split(clean, "/") {
		if !validName(seg) {
			return "", fmt.Errorf("change path %q: unsafe segment %q", p, seg)
		}
	}
	return clean, nil
}

// editTree stores the tree that results from applying edits (path to content, nil
// to delete) to base (nil for none) and returns its hash.
func editTree(st storer.EncodedObjectStorer, base *object.Tree, edits map[string][]byte) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if base != nil {
		for _, e := range base.Entries {
			entries[e.Name] = e
		}
	}
	nested := map[string]map[string][]byte{}
	for p, content := range edits {
		name, rest, isDir := strings.Cut(p, "/")
		if isDir {
			if nested[name] == nil {
				nested[name] = map[string][]byte{}
			}
			nested[name][rest] = content
			continue
		}
		if content == nil {
			delete(entries, name)
			continue
		}
		h, err := storeBlob(st, content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := filemode.Regular
		if old, ok := entries[name]; ok && old.Mode == filemode.Executable {
			mode = filemode.Executable
		}
		entries[name] = object.TreeEntry{Name: name, Mode: mode, Hash: h}
	}
	for name, sub := range nested {
		var subBase *object.Tree
		if old, ok := entries[name]; ok && old.Mode == filemode.Dir {
			t, err := object.GetTree(st, old.Hash)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("%s: %w", name, err)
			}
			subBase = t
		}
		h, err := editTree(st, subBase, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h == emptyTree {
			delete(entries, name)
			continue
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	t := &object.Tree{}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	// Git orders entries by name, with directories compared as if they ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	o := st.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(o)
}

// emptyTree is the hash of the tree with no entries.
var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

func storeBlob(st storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	o := st.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(content)))
	w, err := o.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := io.Copy(w, bytes.NewReader(content)); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(o)
}
