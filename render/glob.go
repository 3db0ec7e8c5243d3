package render

import (
	"fmt"
	"path"
	"strings"
)

// globs is a list of slash-separated glob patterns. A pattern with no "/" matches
// the base name of a path at any depth ("*.yaml"); one with a "/" matches the whole
// path relative to the rendered directory, where "**" stands for any number of
// directories ("apps/**/*.yaml").
type globs [][]string

func compileGlobs(patterns []string) (globs, error) {
	out := make(globs, 0, len(patterns))
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "./")
		segs := strings.Split(p, "/")
		if !strings.Contains(p, "/") {
			segs = []string{"**", p}
		}
		for _, s := range segs {
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("glob %q: %w", p, err)
			}
		}
		out = append(out, segs)
	}
	return out, nil
}

// match reports whether any pattern matches the slash-separated path name.
func (g globs) match(name string) bool {
	parts := strings.Split(name, "/")
	for _, segs := range g {
		if matchSegments(segs, parts) {
			return true
		}
	}
	return false
}

func matchSegments(segs, parts []string) bool {
	for len(segs) > 0 {
		if segs[0] == "**" {
			for i := 0; i <= len(parts); i++ {
				if matchSegments(segs[1:], parts[i:]) {
					return true
				}
			}
			return false
		}
		if len(parts) == 0 {
			return false
		}
		if ok, _ := path.Match(segs[0], parts[0]); !ok {
			return false
		}
		segs, parts = segs[1:], parts[1:]
	}
	return len(parts) == 0
}
