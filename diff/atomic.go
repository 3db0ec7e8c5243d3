package diff

import (
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// keepAtomicDefaults stands in for the server's defaulting where the offline merge
// cannot: inside a value the manifest declares atomically (a StatefulSet's
// volumeClaimTemplates, an RBAC subject list), the merge takes the manifest's value
// whole, while the server would then fill in defaults (volumeMode, status.phase,
// apiGroup). For each such value — a leaf of the applied field set that is a map or
// a list — when live's value holds everything the predicted one does and only adds
// fields, the additions are taken for defaults and live's value is kept.
//
// The cost: removing a field inside an atomic value the manifest declared before is
// not seen offline; the server engine sees it.
//
// An empty map or list in config is a leaf of the applied set too, atomic or not:
// it is left alone, or declaring `labels: {}` would keep the labels it removes.
func keepAtomicDefaults(predicted, live, config map[string]any, applied *fieldpath.Set) {
	applied.Leaves().Iterate(func(p fieldpath.Path) {
		pv, set := lookup(predicted, p)
		if set == nil {
			return
		}
		switch pv.(type) {
		case map[string]any, []any:
		default:
			return
		}
		if cv, _ := lookup(config, p); isEmpty(cv) {
			return
		}
		lv, _ := lookup(live, p)
		if lv != nil && covers(lv, pv, "") {
			set(runtime.DeepCopyJSONValue(lv))
		}
	})
}

// lookup finds the value at p in v and returns it with a function that replaces
// it; the function is nil when p does not resolve.
func lookup(v any, p fieldpath.Path) (any, func(any)) {
	var set func(any)
	for _, pe := range p {
		switch {
		case pe.FieldName != nil:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, nil
			}
			name := *pe.FieldName
			if v, ok = m[name]; !ok {
				return nil, nil
			}
			set = func(x any) { m[name] = x }
		case pe.Key != nil:
			l, ok := v.([]any)
			if !ok {
				return nil, nil
			}
			i := keyIndex(l, pe.Key)
			if i < 0 {
				return nil, nil
			}
			v = l[i]
			set = func(x any) { l[i] = x }
		case pe.Index != nil:
			l, ok := v.([]any)
			i := *pe.Index
			if !ok || i < 0 || i >= len(l) {
				return nil, nil
			}
			v = l[i]
			set = func(x any) { l[i] = x }
		default: // a member of a set of scalars: never a map or list
			return nil, nil
		}
	}
	return v, set
}

func keyIndex(l []any, key *value.FieldList) int {
	for i, item := range l {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		match := true
		for _, f := range *key {
			iv, ok := m[f.Name]
			if !ok && f.Name == "protocol" && f.Value.IsString() && f.Value.AsString() == "TCP" {
				continue // the schema's default for every protocol key of the built-in kinds
			}
			if !ok || !value.Equals(value.NewValueInterface(iv), f.Value) {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// covers reports whether live holds everything want does, adding map fields only.
// key is the map key want is held under, for quantities.
func covers(live, want any, key string) bool {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			lv, ok := l[k]
			if !ok {
				if isEmpty(wv) {
					continue
				}
				return false
			}
			if !covers(lv, wv, k) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !covers(l[i], w[i], "") {
				return false
			}
		}
		return true
	}
	if scalarEqual(key, live, want) {
		return true
	}
	ls, ok1 := live.(string)
	ws, ok2 := want.(string)
	if ok1 && ok2 {
		lq, err1 := resource.ParseQuantity(ls)
		wq, err2 := resource.ParseQuantity(ws)
		return err1 == nil && err2 == nil && lq.Cmp(wq) == 0 && ws != "" && isDigitStart(ws)
	}
	return false
}

func isDigitStart(s string) bool { return s[0] >= '0' && s[0] <= '9' || s[0] == '.' }

// unchanged reports, without a merge, whether applying config over live as
// manager would leave live as it is: every field config declares already has the
// same value in live (with map fields added only, as server defaults), and every
// field manager owned at its last apply is still declared, so nothing is removed.
// It answers false whenever it is unsure; the caller then merges.
func unchanged(config, live map[string]any, managers fieldpath.ManagedFields, manager string) bool {
	if !covers(live, config, "") {
		return false
	}
	owned, ok := managers[manager]
	if !ok {
		return false
	}
	all := true
	owned.Set().Leaves().Iterate(func(p fieldpath.Path) {
		if !all {
			return
		}
		if _, set := lookup(config, p); set == nil && !isMember(config, p) {
			all = false
		}
	})
	return all
}

// isMember reports whether p names a member of a set of scalars (a list of
// strings merged as a set) that config declares.
func isMember(config map[string]any, p fieldpath.Path) bool {
	if len(p) == 0 || p[len(p)-1].Value == nil {
		return false
	}
	parent, set := lookup(config, p[:len(p)-1])
	l, ok := parent.([]any)
	if set == nil || !ok {
		return false
	}
	for _, v := range l {
		if value.Equals(value.NewValueInterface(v), *p[len(p)-1].Value) {
			return true
		}
	}
	return false
}
