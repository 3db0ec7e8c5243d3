package object

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Sort sorts objs in place by identity ([Compare]), keeping the input order of
// objects with equal identities, so the result does not depend on map iteration or
// file system order.
func Sort(objs []*unstructured.Unstructured) {
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return Compare(IDOf(a), IDOf(b))
	})
}
