package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// maxLinkHops bounds how many links are followed while resolving one, like the
// kernel's ELOOP limit.
const maxLinkHops = 40

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

// checkLink resolves the link at rel component by component inside root, following
// every link on the way, and fails when the walk would step above root.
func checkLink(root, rel string) error {
	target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	fail := func(reason string) error { return &SymlinkError{Link: rel, Target: target, Reason: reason} }
	cur := strings.Split(rel, "/")
	cur = cur[:len(cur)-1]
	pending := []string{}
	hops := 0
	follow := func(t string) bool {
		if filepath.IsAbs(t) {
			r, err := filepath.Rel(root, filepath.Clean(t))
			if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				return false
			}
			cur = cur[:0]
			t = r
		}
		pending = append(strings.Split(filepath.ToSlash(t), "/"), pending...)
		return true
	}
	if !follow(target) {
		return fail("")
	}
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return fail("")
			}
			cur = cur[:len(cur)-1]
			continue
		}
		cur = append(cur, c)
		p := filepath.Join(root, filepath.Join(cur...))
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			// A missing component cannot be a link; the rest resolves lexically.
			continue
		}
		if hops++; hops > maxLinkHops {
			return fail("too many levels of symbolic links")
		}
		t, err := os.Readlink(p)
		if err != nil {
			return err
		}
		cur = cur[:len(cur)-1]
		if !follow(t) {
			return fail("")
		}
	}
	return nil
}
