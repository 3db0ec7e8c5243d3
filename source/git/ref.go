package git

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/plumbing"
)

// target is a resolved reference: the name to fetch, the name revisions show, the
// commit the remote advertises for it and the object the reference itself names
// (an annotated tag's object, else the commit).
type target struct {
	refName plumbing.ReferenceName
	display string
	hash    plumbing.Hash
	object  plumbing.Hash
}

func parseConstraint(s string) (*semver.Constraints, error) {
	c, err := semver.NewConstraint(s)
	if err != nil {
		return nil, fmt.Errorf("semver range %q: %w", s, err)
	}
	return c, nil
}

// remoteRefs indexes an ls-remote result: names to hashes, with annotated tags
// peeled to their commit, names to the objects they hold, and the default branch.
type remoteRefs struct {
	hashes  map[plumbing.ReferenceName]plumbing.Hash
	objects map[plumbing.ReferenceName]plumbing.Hash
	head    plumbing.ReferenceName
}

func indexRefs(refs []*plumbing.Reference) remoteRefs {
	rr := remoteRefs{hashes: map[plumbing.ReferenceName]plumbing.Hash{}, objects: map[plumbing.ReferenceName]plumbing.Hash{}}
	peeled := map[plumbing.ReferenceName]plumbing.Hash{}
	for _, r := range refs {
		name := r.Name().String()
		switch {
		case r.Type() == plumbing.SymbolicReference:
			if r.Name() == plumbing.HEAD {
				rr.head = r.Target()
			}
		case strings.HasSuffix(name, "^{}"):
			peeled[plumbing.ReferenceName(strings.TrimSuffix(name, "^{}"))] = r.Hash()
		default:
			rr.hashes[r.Name()] = r.Hash()
			rr.objects[r.Name()] = r.Hash()
		}
	}
	for n, h := range peeled {
		rr.hashes[n] = h
	}
	return rr
}

// resolve picks what ref names among the remote's refs.
func (rr remoteRefs) resolve(ref Ref) (target, error) {
	var t target
	switch {
	case ref.Tag != "":
		t = target{refName: plumbing.NewTagReferenceName(ref.Tag), display: ref.Tag}
	case ref.SemVer != "":
		tag, err := highestTag(ref.SemVer, rr.tags())
		if err != nil {
			return target{}, err
		}
		t = target{refName: plumbing.NewTagReferenceName(tag), display: tag}
	case ref.Name != "":
		t = target{refName: plumbing.ReferenceName(ref.Name), display: ref.Name}
	case ref.Branch != "":
		t = target{refName: plumbing.NewBranchReferenceName(ref.Branch), display: ref.Branch}
	default:
		if rr.head == "" {
			if len(rr.hashes) == 0 {
				return target{}, ErrEmptyRepository
			}
			return target{}, fmt.Errorf("%w: the remote advertises no default branch (HEAD)", ErrInvalidRef)
		}
		t = target{refName: rr.head, display: rr.head.Short()}
	}
	h, ok := rr.hashes[t.refName]
	if !ok {
		if len(rr.hashes) == 0 {
			return target{}, ErrEmptyRepository
		}
		return target{}, fmt.Errorf("%w: the remote has no %s", ErrInvalidRef, t.refName)
	}
	t.hash, t.object = h, rr.objects[t.refName]
	return t, nil
}

func (rr remoteRefs) tags() []string {
	var tags []string
	for n := range rr.hashes {
		if n.IsTag() {
			tags = append(tags, n.Short())
		}
	}
	return tags
}

// highestTag returns the tag with the highest version satisfying the constraint.
// Tags that are not versions are skipped; of two tags with equal versions ("1.0.0"
// and "v1.0.0") the lexically greater wins, so the choice is deterministic.
func highestTag(constraint string, tags []string) (string, error) {
	c, err := parseConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidRef, err)
	}
	var best string
	var bestV *semver.Version
	for _, tag := range tags {
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		if bestV == nil || v.GreaterThan(bestV) || (v.Equal(bestV) && tag > best) {
			best, bestV = tag, v
		}
	}
	if bestV == nil {
		return "", fmt.Errorf("%w: no tag satisfies semver range %q", ErrInvalidRef, constraint)
	}
	return best, nil
}

// revision formats a Flux revision.
func revision(display string, h plumbing.Hash) string {
	if display == "" {
		return "sha1:" + h.String()
	}
	return display + "@sha1:" + h.String()
}
