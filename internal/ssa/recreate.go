package ssa

import "fmt"

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
