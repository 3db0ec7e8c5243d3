// Package linkpath resolves slash-separated paths through symbolic links inside a
// root, one component at a time, refusing any step above the root: the check
// behind source's directory artifacts and source/git's in-memory trees.
package linkpath

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

var (
	// ErrEscape is a path or link that leads above the root.
	ErrEscape = errors.New("path escapes from the artifact root")
	// ErrLoop is a path that follows more than MaxHops links.
	ErrLoop = errors.New("too many levels of symbolic links")
)

// MaxHops bounds how many links one resolution follows, like the kernel's ELOOP.
const MaxHops = 40

// Entry is what a tree holds at one path.
type Entry struct {
	Exists bool
	Dir    bool
	// Link is set for a symbolic link, whose content is Target.
	Link   bool
	Target string
}

// Options say how [Resolve] treats the last component, missing paths and
// absolute link targets.
type Options struct {
	// FollowLast follows a link in the last component too.
	FollowLast bool
	// Lexical resolves the rest of a path lexically once a component is missing or
	// not a directory, instead of failing with fs.ErrNotExist or ENOTDIR (to check
	// where a dangling link would lead).
	Lexical bool
	// Inside maps an absolute link target to its slash-separated path below the
	// root, or reports that it is outside. Nil: every absolute target escapes.
	Inside func(target string) (string, bool)
}

// Resolve resolves name (slash-separated, relative to the root) through the links
// lookup reports and returns the path it leads to ("." for the root).
func Resolve(name string, lookup func(p string) (Entry, error), opts Options) (string, error) {
	var cur, pending []string
	if name != "." {
		pending = strings.Split(name, "/")
	}
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return "", ErrEscape
			}
			cur = cur[:len(cur)-1]
			continue
		}
		cur = append(cur, c)
		e, err := lookup(strings.Join(cur, "/"))
		if err != nil {
			return "", err
		}
		switch {
		case !e.Exists && opts.Lexical:
			continue
		case !e.Exists:
			return "", fs.ErrNotExist
		case !e.Link:
			if len(pending) > 0 && !e.Dir && !opts.Lexical {
				return "", syscall.ENOTDIR
			}
			continue
		case len(pending) == 0 && !opts.FollowLast:
			continue
		}
		if hops++; hops > MaxHops {
			return "", ErrLoop
		}
		target := e.Target
		cur = cur[:len(cur)-1]
		if path.IsAbs(target) {
			inside, ok := "", false
			if opts.Inside != nil {
				inside, ok = opts.Inside(target)
			}
			if !ok {
				return "", ErrEscape
			}
			target, cur = inside, cur[:0]
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	if len(cur) == 0 {
		return ".", nil
	}
	return strings.Join(cur, "/"), nil
}
