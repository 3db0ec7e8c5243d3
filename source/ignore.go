package source

import (
	"fmt"
	"path"
	"strings"
)

// IgnoreFile is the name of the files, anywhere in a source tree, whose gitignore
// patterns leave paths out of an artifact (Flux's convention).
const IgnoreFile = ".sourceignore"

// Ignore decides which paths to leave out of an artifact, with the gitignore syntax
// (https://git-scm.com/docs/gitignore#_pattern_format): "#" comments, "!" to
// re-include, a trailing "/" for directories only, a leading or middle "/" to anchor
// a pattern to its file's directory, "*", "?", "[a-z]" and "**". Later patterns win
// over earlier ones, and, as in Git, nothing inside an ignored directory can be
// re-included. The zero value ignores nothing.
//
// It is not go-git's gitignore matcher, already in the dependency graph, because
// that one re-includes a file inside an excluded directory ("/vendor/" then
// "!/vendor/keep.yaml"), which Git does not, and drops a malformed pattern
// silently where Add names its file and line (TestIgnoreAgainstGoGit). An Ignore is not safe for concurrent
// Add; Match may be called concurrently once patterns are added.
type Ignore struct {
	patterns []ignorePattern
}

type ignorePattern struct {
	base     string // slash-separated directory the pattern is relative to; "" is the root
	segs     []string
	negate   bool
	dirOnly  bool
	anchored bool
}

// Add appends the patterns in text, read from the file name (used in errors) in the
// directory base, slash-separated relative to the root ("" or "." for the root). A
// malformed pattern is an error naming the file and line; nothing is added then.
func (ig *Ignore) Add(base, name, text string) error {
	base = strings.Trim(path.Clean("/"+base), "/")
	var add []ignorePattern
	for i, line := range strings.Split(text, "\n") {
		p, ok, err := parseIgnoreLine(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		if ok {
			p.base = base
			add = append(add, p)
		}
	}
	ig.patterns = append(ig.patterns, add...)
	return nil
}

func parseIgnoreLine(line string) (ignorePattern, bool, error) {
	var p ignorePattern
	// Trailing spaces are dropped unless escaped with a backslash.
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\\ ") {
		line = line[:len(line)-1]
	}
	if line == "" || line[0] == '#' {
		return p, false, nil
	}
	if line[0] == '!' {
		p.negate, line = true, line[1:]
	} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly, line = true, strings.TrimRight(line, "/")
	}
	if line == "" {
		return p, false, nil
	}
	if strings.Contains(line, "/") {
		p.anchored, line = true, strings.TrimLeft(line, "/")
	}
	for _, s := range strings.Split(line, "/") {
		if s == "" {
			continue
		}
		if s != "**" {
			s = strings.ReplaceAll(s, "[!", "[^")
			if _, err := path.Match(s, ""); err != nil {
				return p, false, fmt.Errorf("pattern %q: %w", line, err)
			}
		} else if n := len(p.segs); n > 0 && p.segs[n-1] == "**" {
			continue // "**/**" is "**"
		}
		p.segs = append(p.segs, s)
	}
	if len(p.segs) == 0 {
		return p, false, nil
	}
	return p, true, nil
}

// Match reports whether the slash-separated path p (relative to the root; isDir
// when it names a directory) is ignored, either itself or through an ignored parent
// directory.
func (ig *Ignore) Match(p string, isDir bool) bool {
	if ig == nil || len(ig.patterns) == 0 {
		return false
	}
	p = strings.Trim(path.Clean("/"+p), "/")
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && ig.matchOne(p[:i], true) {
			return true
		}
	}
	return ig.matchOne(p, isDir)
}

// matchOne applies the patterns to p alone; the last matching pattern decides.
func (ig *Ignore) matchOne(p string, isDir bool) bool {
	ignored := false
	for i := range ig.patterns {
		pat := &ig.patterns[i]
		if pat.negate != ignored {
			continue // cannot change the outcome
		}
		if pat.matches(p, isDir) {
			ignored = !pat.negate
		}
	}
	return ignored
}

func (pat *ignorePattern) matches(p string, isDir bool) bool {
	if pat.dirOnly && !isDir {
		return false
	}
	if pat.base != "" {
		rest, ok := strings.CutPrefix(p, pat.base+"/")
		if !ok {
			return false
		}
		p = rest
	}
	if !pat.anchored {
		ok, _ := path.Match(pat.segs[0], path.Base(p))
		return ok
	}
	return matchSegments(pat.segs, strings.Split(p, "/"))
}

func matchSegments(pat, ps []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return len(ps) > 0 // "dir/**" matches inside dir, not dir itself
			}
			for i := 0; i <= len(ps); i++ {
				if matchSegments(pat[1:], ps[i:]) {
					return true
				}
			}
			return false
		}
		if len(ps) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], ps[0]); !ok {
			return false
		}
		pat, ps = pat[1:], ps[1:]
	}
	return len(ps) == 0
}
