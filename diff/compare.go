package diff

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
)

// listKeys are the fields that identify the items of a list of objects, tried in
// order; the first one every item of both sides has, with distinct values, is used.
// They match the merge keys of the built-in kinds closely enough to name items in
// paths; the merge itself uses the real keys from the schema.
var listKeys = []string{"name", "containerPort", "port", "mountPath", "devicePath", "ip", "type", "topologyKey"}

// intOrStringKeys are fields of the built-in kinds typed int-or-string, where 80 and
// "80" mean the same.
var intOrStringKeys = map[string]bool{
	"targetPort": true, "port": true, "maxSurge": true, "maxUnavailable": true, "minAvailable": true,
}

// comparePaths returns the sorted paths at which b differs from a.
func comparePaths(a, b map[string]any) []string {
	var out []string
	compareValue("", "", a, b, &out)
	sort.Strings(out)
	return out
}

func compareValue(path, key string, a, b any, out *[]string) {
	switch at := a.(type) {
	case map[string]any:
		if bt, ok := b.(map[string]any); ok {
			compareMaps(path, at, bt, out)
			return
		}
	case []any:
		if bt, ok := b.([]any); ok {
			compareLists(path, at, bt, out)
			return
		}
	}
	if !scalarEqual(key, a, b) {
		*out = append(*out, path)
	}
}

func compareMaps(path string, a, b map[string]any, out *[]string) {
	for k, av := range a {
		p := path + fieldSegment(k)
		bv, ok := b[k]
		if !ok {
			*out = append(*out, p)
			continue
		}
		compareValue(p, k, av, bv, out)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			*out = append(*out, path+fieldSegment(k))
		}
	}
}

func compareLists(path string, a, b []any, out *[]string) {
	if key := listKey(a, b); key != "" {
		am, bm := index(a, key), index(b, key)
		for k, av := range am {
			p := path + "[" + key + "=" + k + "]"
			if bv, ok := bm[k]; ok {
				compareValue(p, "", av, bv, out)
			} else {
				*out = append(*out, p)
			}
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				*out = append(*out, path+"["+key+"="+k+"]")
			}
		}
		return
	}
	if len(a) != len(b) {
		*out = append(*out, path)
		return
	}
	var sub []string
	for i := range a {
		compareValue(path+"["+strconv.Itoa(i)+"]", "", a[i], b[i], &sub)
	}
	if len(sub) > 0 && !isObjectList(a) {
		// A list of scalars changes as a whole.
		*out = append(*out, path)
		return
	}
	*out = append(*out, sub...)
}

func isObjectList(l []any) bool {
	for _, v := range l {
		if _, ok := v.(map[string]any); !ok {
			return false
		}
	}
	return len(l) > 0
}

// listKey picks the field that names the items of both lists, or "".
func listKey(a, b []any) string {
	if !isObjectList(a) && len(a) > 0 || !isObjectList(b) && len(b) > 0 {
		return ""
	}
	for _, k := range listKeys {
		if distinct(a, k) && distinct(b, k) {
			return k
		}
	}
	return ""
}

func distinct(l []any, key string) bool {
	seen := make(map[string]bool, len(l))
	for _, v := range l {
		kv, ok := v.(map[string]any)[key]
		if !ok {
			return false
		}
		s := keyValue(kv)
		if seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

func index(l []any, key string) map[string]any {
	m := make(map[string]any, len(l))
	for _, v := range l {
		m[keyValue(v.(map[string]any)[key])] = v
	}
	return m
}

func keyValue(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
	}
	return fmt.Sprint(v)
}

var plainField = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func fieldSegment(k string) string {
	if plainField.MatchString(k) {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// scalarEqual compares two leaves by meaning: numbers by value whatever their Go
// type, and int-or-string fields' 80 and "80" as equal.
func scalarEqual(key string, a, b any) bool {
	if fa, ok := number(a); ok {
		if fb, ok := number(b); ok {
			return fa == fb
		}
	}
	if intOrStringKeys[key] {
		return keyValue(a) == keyValue(b) || fmt.Sprint(a) == fmt.Sprint(b)
	}
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

func number(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case int32:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}
