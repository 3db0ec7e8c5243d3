package ssa

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// RecreateAnnotation set to "enabled" lets an immutable field change delete and
// recreate the object.
const RecreateAnnotation = "gitopskit.io/recreate"

// Enabled reports whether annotation key has the value on; the other accepted value
// of the pair enabled/disabled means false, anything else is an error.
func Enabled(ann map[string]string, key, on string) (bool, error) {
	v, ok := ann[key]
	if !ok {
		return false, nil
	}
	switch v {
	case on:
		return true, nil
	case "enabled", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("annotation %s=%q: want enabled or disabled", key, v)
}

// Recreates reports whether obj's annotation lets an apply recreate it. It reads
// the annotation in place: the diff asks for every object.
func Recreates(obj *unstructured.Unstructured) (bool, error) {
	v, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", "annotations", RecreateAnnotation)
	if !ok {
		return false, nil
	}
	s, _ := v.(string)
	return Enabled(map[string]string{RecreateAnnotation: s}, RecreateAnnotation, "enabled")
}
