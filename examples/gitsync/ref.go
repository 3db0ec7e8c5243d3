package main

import (
	"fmt"
	"strings"

	"github.com/gitopskit/gitopskit/source/git"
)

// parseRef reads the --ref flag: "branch:main", "tag:v1.2.0", "semver:>=1.0.0 <2",
// "commit:<sha>", or a bare value: a 40-digit hash is a commit, "refs/…" a full
// reference name, anything else a branch. An empty value is the default branch.
func parseRef(s string) (git.Ref, error) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		switch {
		case s == "":
			return git.Ref{}, nil
		case len(s) == 40 && strings.Trim(s, "0123456789abcdef") == "":
			return git.Ref{Commit: s}, nil
		case strings.HasPrefix(s, "refs/"):
			return git.Ref{Name: s}, nil
		default:
			return git.Ref{Branch: s}, nil
		}
	}
	if value == "" {
		return git.Ref{}, fmt.Errorf("--ref %q: empty %s", s, kind)
	}
	switch kind {
	case "branch":
		return git.Ref{Branch: value}, nil
	case "tag":
		return git.Ref{Tag: value}, nil
	case "semver":
		return git.Ref{SemVer: value}, nil
	case "commit":
		return git.Ref{Commit: value}, nil
	}
	return git.Ref{}, fmt.Errorf("--ref %q: unknown kind %q (want branch, tag, semver or commit)", s, kind)
}
