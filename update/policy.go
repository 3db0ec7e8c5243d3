package update

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/Masterminds/semver/v3"
)

// ErrInvalidPolicy is matched by errors from [Policy.Validate]: a policy without a
// name or image, with no ordering or more than one, or with a bad range or pattern.
var ErrInvalidPolicy = errors.New("update: invalid policy")

// ErrNoTag is matched by errors from [Policy.Latest] when no tag passes the filter
// and the ordering.
var ErrNoTag = errors.New("update: no tag matches the policy")

// Policy says which tag of an image repository is the newest one to deploy. Exactly
// one of SemVer, Numerical and Alphabetical is set. Its fields serialise to the
// same shape as Flux's ImagePolicy spec, so policies can live in a YAML file.
type Policy struct {
	// Name identifies the policy in comment markers, e.g. "apps:podinfo" for
	// `# {"$imagepolicy": "apps:podinfo"}`.
	Name string `json:"name"`
	// Image is the repository whose tags are scanned, e.g. "ghcr.io/org/app".
	Image string `json:"image"`
	// SemVer picks the highest version in a range.
	SemVer *SemVer `json:"semver,omitempty"`
	// Numerical picks the greatest (or least) tag read as a number.
	Numerical *Ordering `json:"numerical,omitempty"`
	// Alphabetical picks the last (or first) tag in byte order.
	Alphabetical *Ordering `json:"alphabetical,omitempty"`
	// FilterTags keeps only the tags matching a pattern and orders them by a
	// value extracted from the tag.
	FilterTags *TagFilter `json:"filterTags,omitempty"`
	// Digest pins the chosen tag to its manifest digest, so that the written
	// reference is "image:tag@sha256:…" and a re-pushed tag is noticed.
	Digest bool `json:"digest,omitempty"`
}

// SemVer orders tags as semantic versions (a leading "v" and missing minor or
// patch numbers are accepted); tags that are not versions are ignored.
type SemVer struct {
	// Range is a Masterminds constraint, e.g. ">=1.2.0 <2.0.0", "~1.4", "^2".
	Range string `json:"range"`
	// Prereleases admits versions like 1.3.0-rc.1. Without it they are chosen only
	// when the range itself names a pre-release (">=1.3.0-0"), as semver specifies.
	Prereleases bool `json:"prereleases,omitempty"`
}

// Order is the direction of a [Ordering].
type Order string

// Orders: Ascending means the newest tag is the one sorted last (the greatest),
// Descending the one sorted first.
const (
	Ascending  Order = "asc"
	Descending Order = "desc"
)

// Ordering is the direction of a numerical or alphabetical policy. The zero value
// is [Ascending].
type Ordering struct {
	Order Order `json:"order,omitempty"`
}

// TagFilter keeps the tags that match Pattern, a Go regular expression. When
// Extract is set, tags are ordered by Extract expanded with the pattern's groups
// ("$ts", "${1}") instead of the whole tag, e.g. pattern `^main-[a-f0-9]+-(?P<ts>\d+)$`
// with extract "$ts" orders CI builds by their timestamp.
type TagFilter struct {
	Pattern string `json:"pattern"`
	Extract string `json:"extract,omitempty"`
}

// Validate checks p: a name and an image, exactly one ordering, a valid range and
// pattern. Errors match [ErrInvalidPolicy] and name the policy.
func (p Policy) Validate() error {
	_, err := p.compile()
	return err
}

type compiledPolicy struct {
	constraint *semver.Constraints
	filter     *regexp.Regexp
}

func (p Policy) compile() (compiledPolicy, error) {
	var c compiledPolicy
	fail := func(format string, args ...any) (compiledPolicy, error) {
		return c, fmt.Errorf("%w %q: %s", ErrInvalidPolicy, p.Name, fmt.Sprintf(format, args...))
	}
	if p.Name == "" {
		return fail("no name")
	}
	if p.Image == "" {
		return fail("no image")
	}
	if _, err := parseRepository(p.Image); err != nil {
		return fail("image: %v", err)
	}
	n := 0
	for _, set := range []bool{p.SemVer != nil, p.Numerical != nil, p.Alphabetical != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fail("set exactly one of semver, numerical and alphabetical")
	}
	for _, o := range []*Ordering{p.Numerical, p.Alphabetical} {
		if o != nil && o.Order != "" && o.Order != Ascending && o.Order != Descending {
			return fail("order %q is neither %q nor %q", o.Order, Ascending, Descending)
		}
	}
	if p.SemVer != nil {
		cs, err := semver.NewConstraint(p.SemVer.Range)
		if err != nil {
			return fail("semver range %q: %v", p.SemVer.Range, err)
		}
		cs.IncludePrerelease = p.SemVer.Prereleases
		c.constraint = cs
	}
	if f := p.FilterTags; f != nil {
		re, err := regexp.Compile(f.Pattern)
		if err != nil {
			return fail("filter pattern: %v", err)
		}
		c.filter = re
	}
	return c, nil
}

// candidate is a tag and the value it is ordered by.
type candidate struct{ tag, key string }

// Latest returns the newest of tags under p: the tags are filtered by FilterTags,
// their ordering values extracted, and the greatest value under the ordering wins.
// Ties (two tags with equal values, "v1.0" and "1.0.0") go to the tag that sorts
// last, so the result does not depend on the order of tags. It fails with an error
// matching [ErrNoTag] when no tag is left, or [ErrInvalidPolicy].
func (p Policy) Latest(tags []string) (string, error) {
	c, err := p.compile()
	if err != nil {
		return "", err
	}
	cands := make([]candidate, 0, len(tags))
	for _, tag := range tags {
		key := tag
		if c.filter != nil {
			m := c.filter.FindStringSubmatchIndex(tag)
			if m == nil {
				continue
			}
			if p.FilterTags.Extract != "" {
				key = string(c.filter.ExpandString(nil, p.FilterTags.Extract, tag, m))
			}
		}
		cands = append(cands, candidate{tag, key})
	}
	var best string
	var ok bool
	switch {
	case p.SemVer != nil:
		best, ok = latestSemVer(cands, c.constraint)
	case p.Numerical != nil:
		best, ok = latestNumerical(cands, p.Numerical.Order == Descending)
	default:
		best, ok = latestAlphabetical(cands, p.Alphabetical.Order == Descending)
	}
	if !ok {
		return "", fmt.Errorf("%w %q: %d tags, none selected", ErrNoTag, p.Name, len(tags))
	}
	return best, nil
}

func latestSemVer(cands []candidate, cs *semver.Constraints) (string, bool) {
	var best *semver.Version
	var tag string
	for _, c := range cands {
		v, err := semver.NewVersion(c.key)
		if err != nil || !cs.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || v.Equal(best) && c.tag > tag {
			best, tag = v, c.tag
		}
	}
	return tag, best != nil
}

func latestNumerical(cands []candidate, desc bool) (string, bool) {
	var best float64
	var tag string
	found := false
	for _, c := range cands {
		f, err := strconv.ParseFloat(c.key, 64)
		if err != nil || f != f { // not a number, or NaN
			continue
		}
		better := f > best
		if desc {
			better = f < best
		}
		if !found || better || f == best && c.tag > tag {
			best, tag, found = f, c.tag, true
		}
	}
	return tag, found
}

func latestAlphabetical(cands []candidate, desc bool) (string, bool) {
	if len(cands) == 0 {
		return "", false
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].key != cands[j].key {
			return cands[i].key < cands[j].key
		}
		return cands[i].tag < cands[j].tag
	})
	if desc {
		// The first key; among equal keys still the last tag.
		i := 0
		for i+1 < len(cands) && cands[i+1].key == cands[0].key {
			i++
		}
		return cands[i].tag, true
	}
	return cands[len(cands)-1].tag, true
}
