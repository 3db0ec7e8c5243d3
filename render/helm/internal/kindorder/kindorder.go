// Package kindorder orders kinds as Helm installs them, for the engines of
// render/helm, each with the install order of its Helm version.
package kindorder

import "cmp"

// Compare returns the comparison of kinds in the install order order (Helm's
// releaseutil.InstallOrder): known kinds by rank, then unknown kinds by name.
func Compare(order []string) func(a, b string) int {
	rank := make(map[string]int, len(order))
	for i, k := range order {
		rank[k] = i
	}
	return func(a, b string) int {
		ra, knownA := rank[a]
		rb, knownB := rank[b]
		switch {
		case knownA && knownB:
			return cmp.Compare(ra, rb)
		case knownA:
			return -1
		case knownB:
			return 1
		}
		return cmp.Compare(a, b)
	}
}
