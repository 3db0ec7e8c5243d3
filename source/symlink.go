package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitopskit/gitopskit/internal/linkpath"
)

// ErrSymlinkEscape is matched (errors.Is) by a [*SymlinkError].
var ErrSymlinkEscape = errors.New("symbolic link points outside the artifact root")

// SymlinkError reports a symbolic link that resolves outside the artifact root, or
// that cannot be resolved (a loop).
type SymlinkError struct {
	// Link is the link's slash-separated path relative to the root.
	Link string
	// Target is the link's content as stored.
	Target string
	// Reason says why it was refused when it is not an escape (a loop).
	Reason string
}

// Error implements error.
func (e *SymlinkError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("symlink %s -> %s: %s", e.Link, e.Target, e.Reason)
	}
	return fmt.Sprintf("symlink %s -> %s: points outside the artifact root", e.Link, e.Target)
}

// Is reports whether target is [ErrSymlinkEscape].
func (e *SymlinkError) Is(target error) bool { return target == ErrSymlinkEscape }

// CheckSymlinks walks the directory root and returns a [*SymlinkError] for the first
// symbolic link (in lexical order) that resolves outside root, directly or through
// other links, whether or not its final target exists. Links that stay inside are
// allowed.
func CheckSymlinks(root string) error {
	canon, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("artifact root %s: %w", root, err)
	}
	return filepath.WalkDir(canon, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, err := filepath.Rel(canon, p)
		if err != nil {
			return err
		}
		return checkLink(canon, filepath.ToSlash(rel))
	})
}

// checkLink resolves the link at rel inside root, following every link on the
// way (an absolute target is followed when it names a path below root), and fails
// when the walk would step above root.
func checkLink(root, rel string) error {
	target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	lookup := func(p string) (linkpath.Entry, error) {
		full := filepath.Join(root, filepath.FromSlash(p))
		fi, err := os.Lstat(full)
		if err != nil {
			return linkpath.Entry{}, nil // a missing component: the rest resolves lexically
		}
		e := linkpath.Entry{Exists: true, Dir: fi.IsDir(), Link: fi.Mode()&fs.ModeSymlink != 0}
		if e.Link {
			t, err := os.Readlink(full)
			if err != nil {
				return e, err
			}
			e.Target = filepath.ToSlash(t)
		}
		return e, nil
	}
	inside := func(t string) (string, bool) {
		r, err := filepath.Rel(root, filepath.Clean(filepath.FromSlash(t)))
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "", false
		}
		return filepath.ToSlash(r), true
	}
	_, err = linkpath.Resolve(rel, lookup, linkpath.Options{FollowLast: true, Lexical: true, Inside: inside})
	switch {
	case errors.Is(err, linkpath.ErrEscape):
		return &SymlinkError{Link: rel, Target: target}
	case errors.Is(err, linkpath.ErrLoop):
		return &SymlinkError{Link: rel, Target: target, Reason: linkpath.ErrLoop.Error()}
	}
	return err
}
