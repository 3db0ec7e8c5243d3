package diff

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// ChangedPaths returns the paths at which after differs from before, both
// normalized as a Differ normalizes live and predicted objects.
func ChangedPaths(before, after *unstructured.Unstructured) []string {
	return comparePaths(normalize(before).Object, normalize(after).Object)
}
