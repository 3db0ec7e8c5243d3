package git

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitopskit/gitopskit/internal/linkpath"
	"github.com/gitopskit/gitopskit/source"
)

// treeIndex is the [sink] of a lazy checkout: what a directory checkout would hold,
// as an in-memory index of paths to blobs in the object store. Building it reads
// tree objects and, for new blobs, their sizes; no file is written.
type treeIndex struct {
	nodes map[string]*node // by slash-separated path; "." is the root
	prev  *treeIndex       // the previous index, whose sizes unchanged files reuse
}

type node struct {
	mode     fs.FileMode
	hash     plumbing.Hash
	size     int64
	target   string   // a symbolic link's
	children []string // a directory's entry names, sorted
}

func newTreeIndex(prev *treeIndex) *treeIndex {
	return &treeIndex{nodes: map[string]*node{".": {mode: fs.ModeDir | 0o755}}, prev: prev}
}

func (t *treeIndex) add(p string, n *node) {
	t.nodes[p] = n
	parent := t.nodes[path.Dir(p)]
	parent.children = append(parent.children, path.Base(p))
}

func (t *treeIndex) mkdir(p string) error {
	t.add(p, &node{mode: fs.ModeDir | 0o755})
	return nil
}

func (t *treeIndex) write(c *checkout, p string, e object.TreeEntry, unchanged bool) (string, error) {
	n := &node{mode: 0o644, hash: e.Hash, size: -1}
	if unchanged && t.prev != nil {
		if old := t.prev.nodes[p]; old != nil && old.hash == e.Hash {
			n.size, n.target = old.size, old.target
		}
	}
	if n.size < 0 {
		size, err := c.st.EncodedObjectSize(e.Hash)
		if err != nil {
			return "", err
		}
		n.size = size
	}
	if err := c.reserve(p, n.size); err != nil {
		return "", err
	}
	switch e.Mode {
	case filemode.Executable:
		n.mode = 0o755
	case filemode.Symlink:
		n.mode = fs.ModeSymlink | 0o777
		if n.target == "" {
			b, err := readBlob(c.st, e.Hash, 1<<20, "symbolic link")
			if err != nil {
				return "", err
			}
			n.target = string(b)
		}
	}
	t.add(p, n)
	return n.target, nil
}

// finish sorts directory entries and refuses symbolic links that leave the root,
// as [source.CheckSymlinks] does for a directory.
func (t *treeIndex) finish() error {
	var links []string
	for p, n := range t.nodes {
		slices.Sort(n.children)
		if n.mode&fs.ModeSymlink != 0 {
			links = append(links, p)
		}
	}
	slices.Sort(links)
	for _, p := range links {
		_, err := t.walk(p, true, true)
		switch {
		case errors.Is(err, linkpath.ErrEscape):
			return &source.SymlinkError{Link: p, Target: t.nodes[p].target}
		case errors.Is(err, linkpath.ErrLoop):
			return &source.SymlinkError{Link: p, Target: t.nodes[p].target, Reason: linkpath.ErrLoop.Error()}
		case err != nil:
			return err
		}
	}
	return nil
}

// walk resolves name through the index's symbolic links (the last one only when
// followLast); see [linkpath.Resolve]. Absolute link targets escape.
func (t *treeIndex) walk(name string, followLast, lexical bool) (string, error) {
	return linkpath.Resolve(name, t.entry, linkpath.Options{FollowLast: followLast, Lexical: lexical})
}

func (t *treeIndex) entry(p string) (linkpath.Entry, error) {
	n := t.nodes[p]
	if n == nil {
		return linkpath.Entry{}, nil
	}
	return linkpath.Entry{Exists: true, Dir: n.mode.IsDir(), Link: n.mode&fs.ModeSymlink != 0, Target: n.target}, nil
}

// treeFS serves a [treeIndex], reading blobs from the object store when a file is
// opened. Its paths and symbolic links behave as [source.DirFS] over the same
// checkout: links are followed inside the root, and a path leaving it fails.
type treeFS struct {
	idx   *treeIndex
	mtime time.Time // the commit's, for every entry
	// mu serializes reads: go-git's object storage keeps unsynchronized state
	// (pack indexes, open packs). Reads are in-memory decodes, so the lock is
	// held briefly; one storage per artifact keeps artifacts independent.
	mu sync.Mutex
	st storer.EncodedObjectStorer
}

var (
	_ fs.ReadLinkFS = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.ReadFileFS = (*treeFS)(nil)
)

func (f *treeFS) lookup(op, name string, followLast bool) (string, *node, error) {
	if !fs.ValidPath(name) {
		return "", nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	p, err := f.idx.walk(name, followLast, false)
	if err != nil {
		return "", nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return p, f.idx.nodes[p], nil
}

func (f *treeFS) info(p string, n *node) fileInfo {
	return fileInfo{name: path.Base(p), n: n, mtime: f.mtime}
}

// Open implements fs.FS.
func (f *treeFS) Open(name string) (fs.File, error) {
	p, n, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	if n.mode.IsDir() {
		return &dirFile{fileInfo: f.info(p, n), entries: f.entries(p, n)}, nil
	}
	b, err := f.content(name, n)
	if err != nil {
		return nil, err
	}
	return &blobFile{fileInfo: f.info(p, n), Reader: bytes.NewReader(b)}, nil
}

// ReadFile implements fs.ReadFileFS.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	_, n, err := f.lookup("read", name, true)
	if err != nil {
		return nil, err
	}
	if n.mode.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return f.content(name, n)
}

func (f *treeFS) content(name string, n *node) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := readBlob(f.st, n.hash, n.size, "file")
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

// ReadDir implements fs.ReadDirFS.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, n, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.entries(p, n), nil
}

func (f *treeFS) entries(p string, n *node) []fs.DirEntry {
	out := make([]fs.DirEntry, len(n.children))
	for i, c := range n.children {
		cp := path.Join(p, c)
		out[i] = fs.FileInfoToDirEntry(f.info(cp, f.idx.nodes[cp]))
	}
	return out
}

// Stat implements fs.StatFS.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	p, n, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return f.info(p, n), nil
}

// Lstat implements fs.ReadLinkFS.
func (f *treeFS) Lstat(name string) (fs.FileInfo, error) {
	p, n, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return f.info(p, n), nil
}

// ReadLink implements fs.ReadLinkFS.
func (f *treeFS) ReadLink(name string) (string, error) {
	_, n, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symbolic link")}
	}
	return n.target, nil
}

type fileInfo struct {
	name  string
	n     *node
	mtime time.Time
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64 {
	if i.n.mode.IsDir() {
		return 0
	}
	return i.n.size
}
func (i fileInfo) Mode() fs.FileMode  { return i.n.mode }
func (i fileInfo) ModTime() time.Time { return i.mtime }
func (i fileInfo) IsDir() bool        { return i.n.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

type blobFile struct {
	fileInfo
	*bytes.Reader
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.fileInfo, nil }
func (b *blobFile) Close() error               { return nil }

type dirFile struct {
	fileInfo
	entries []fs.DirEntry
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.fileInfo, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

// readBlob reads a blob of at most max bytes; what names it in errors.
func readBlob(st storer.EncodedObjectStorer, h plumbing.Hash, max int64, what string) ([]byte, error) {
	blob, err := object.GetBlob(st, h)
	if err != nil {
		return nil, err
	}
	if blob.Size > max {
		return nil, fmt.Errorf("%s of %d bytes, more than %d", what, blob.Size, max)
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	b := make([]byte, 0, blob.Size)
	buf := bytes.NewBuffer(b)
	_, err = buf.ReadFrom(rd)
	return buf.Bytes(), err
}
