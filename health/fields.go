package health

import (
	"math"
	"strconv"
)

// The accessors below read an unstructured object in place, without converting it
// to a typed struct: assessment reads a handful of fields, and a conversion would
// cost more than the assessment. They tolerate any shape: a field of the wrong type
// reads as absent, so a hostile or broken object never panics.

// field returns m[k] as a map, or nil.
func field(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

// str returns m[k] as a string, or "".
func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

// boolean returns m[k] as a bool, or false.
func boolean(m map[string]any, k string) bool {
	v, _ := m[k].(bool)
	return v
}

// integer returns m[k] as an int64 and whether it was a number. JSON decoding gives
// int64, YAML-through-JSON decoding gives float64; both are read.
func integer(m map[string]any, k string) (int64, bool) {
	switch v := m[k].(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
		return int64(v), true
	}
	return 0, false
}

// count returns m[k] as an int64, or 0.
func count(m map[string]any, k string) int64 {
	v, _ := integer(m, k)
	return v
}

// countOr returns m[k] as an int64, or def when absent.
func countOr(m map[string]any, k string, def int64) int64 {
	if v, ok := integer(m, k); ok {
		return v
	}
	return def
}

// list returns m[k] as a slice, or nil.
func list(m map[string]any, k string) []any {
	v, _ := m[k].([]any)
	return v
}

// condition returns the condition of type t in status.conditions, or nil.
func condition(status map[string]any, t string) map[string]any {
	for _, c := range list(status, "conditions") {
		if m, ok := c.(map[string]any); ok && str(m, "type") == t {
			return m
		}
	}
	return nil
}

// isTrue and isFalse report a condition's status; a nil condition is neither.
func isTrue(c map[string]any) bool  { return c != nil && str(c, "status") == "True" }
func isFalse(c map[string]any) bool { return c != nil && str(c, "status") == "False" }

// explain joins a condition's reason and message for a Status message.
func explain(c map[string]any) string {
	reason, msg := str(c, "reason"), str(c, "message")
	switch {
	case reason == "":
		return msg
	case msg == "":
		return reason
	}
	return reason + ": " + msg
}

// observed reports whether the object's controller has seen its latest spec:
// status.observedGeneration is at least metadata.generation. An absent
// observedGeneration passes for generic objects (not every controller writes it)
// and fails for the built-in workloads, whose controllers always do.
func observed(obj map[string]any, required bool) (ok bool, msg string) {
	st := field(obj, "status")
	og, has := integer(st, "observedGeneration")
	if !has {
		if required {
			return false, "waiting for the controller to observe the object"
		}
		return true, ""
	}
	gen, hasGen := integer(field(obj, "metadata"), "generation")
	if !hasGen || og >= gen {
		// Without a generation (an object not read from the API server) there is
		// nothing to compare with.
		return true, ""
	}
	return false, "waiting for the controller to observe generation " + itoa(gen) + " (observed " + itoa(og) + ")"
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// of formats "n of m noun", the shape of every rollout message.
func of(n, m int64, noun string) string { return itoa(n) + " of " + itoa(m) + " " + noun }
