package health

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A selector's group is a name ("cert-manager.io"), a pattern "*.suffix" for every
// group that ends with ".suffix" ("*.crossplane.io"), or "*" for every group; its
// kind is a name or "*".

// matchGroup reports whether group matches pattern.
func matchGroup(pattern, group string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(group, pattern[1:])
	}
	return pattern == group
}

// matchKind reports whether kind matches pattern.
func matchKind(pattern, kind string) bool { return pattern == "*" || pattern == kind }

// validSelector reports whether group and kind are a name or pattern each.
func validSelector(group, kind string) bool {
	if kind == "" || (strings.Contains(kind, "*") && kind != "*") {
		return false
	}
	rest := strings.TrimPrefix(group, "*.")
	return group == "*" || !strings.Contains(rest, "*")
}

// rules holds rules by selector: exact ones in a map, patterns in order.
type rules struct {
	exact    map[[2]string][]Rule
	patterns []patternRule
}

type patternRule struct {
	group, kind string
	rule        Rule
}

func (rs *rules) add(group, kind string, r Rule) {
	if strings.Contains(group, "*") || kind == "*" {
		rs.patterns = append(rs.patterns, patternRule{group, kind, r})
		return
	}
	if rs.exact == nil {
		rs.exact = map[[2]string][]Rule{}
	}
	k := [2]string{group, kind}
	rs.exact[k] = append(rs.exact[k], r)
}

// run runs the exact rules of group and kind, then the matching patterns, in the
// order they were added, until one decides.
func (rs *rules) run(group, kind string, obj *unstructured.Unstructured) (Status, bool) {
	for _, r := range rs.exact[[2]string{group, kind}] {
		if s, ok := r(obj); ok {
			return s, true
		}
	}
	for _, p := range rs.patterns {
		if matchGroup(p.group, group) && matchKind(p.kind, kind) {
			if s, ok := p.rule(obj); ok {
				return s, true
			}
		}
	}
	return Status{}, false
}
