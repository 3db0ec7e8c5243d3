package object

import (
	"maps"
	"slices"
)

// Set is a set of object identities. The zero value is not usable; make one with
// [NewSet] or make(Set). A Set is not safe for concurrent writes.
type Set map[ID]struct{}

// NewSet returns a set holding ids.
func NewSet(ids ...ID) Set {
	s := make(Set, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// Add adds ids to s.
func (s Set) Add(ids ...ID) {
	for _, id := range ids {
		s[id] = struct{}{}
	}
}

// Has reports whether id is in s.
func (s Set) Has(id ID) bool {
	_, ok := s[id]
	return ok
}

// Difference returns the IDs of s that are not in other, sorted.
func (s Set) Difference(other Set) []ID {
	var out []ID
	for id := range s {
		if !other.Has(id) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, Compare)
	return out
}

// Sorted returns the IDs of s in [Compare] order.
func (s Set) Sorted() []ID {
	return slices.SortedFunc(maps.Keys(s), Compare)
}
