package health

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Rule assesses objects of one group and kind. It returns ok false to leave the
// object to the next rule: the built-in rule of its kind, then the generic one.
// A Rule must not modify obj and must be safe for concurrent use.
type Rule func(obj *unstructured.Unstructured) (s Status, ok bool)

// Options configure an [Assessor].
type Options struct {
	// Rules are custom rules in Go, per group and kind. They run before the CEL
	// rules and the built-in rules of the same kind.
	Rules map[schema.GroupKind]Rule
	// CELRules are custom rules in CEL (see [CELRule]). They are compiled and
	// type-checked by [NewAssessor].
	CELRules []CELRule
	// CELCostLimit bounds the work of one CEL evaluation, in CEL's cost units
	// (about one per field access or comparison). Zero means 1,000,000, the
	// Kubernetes API server's limit for one validation rule.
	CELCostLimit uint64
}

// DefaultCELCostLimit is the cost limit of a CEL evaluation when
// [Options.CELCostLimit] is zero.
const DefaultCELCostLimit = 1_000_000

// Assessor tells the health of objects: custom rules first, then the built-in rule
// of the object's kind, then the generic kstatus conventions. The zero value and
// nil use the built-in and generic rules only. An Assessor is immutable and safe for
// concurrent use.
type Assessor struct {
	rules map[schema.GroupKind][]Rule
}

// NewAssessor returns an Assessor with the custom rules of opts. A CEL rule that
// does not compile or type-check is an error naming the rule.
func NewAssessor(opts Options) (*Assessor, error) {
	a := &Assessor{rules: map[schema.GroupKind][]Rule{}}
	for gk, r := range opts.Rules {
		if r == nil {
			return nil, fmt.Errorf("health rule for %s: nil function", gk)
		}
		a.rules[gk] = append(a.rules[gk], r)
	}
	if len(opts.CELRules) > 0 {
		limit := opts.CELCostLimit
		if limit == 0 {
			limit = DefaultCELCostLimit
		}
		env, err := celEnv()
		if err != nil {
			return nil, err
		}
		for _, cr := range opts.CELRules {
			r, err := cr.compile(env, limit)
			if err != nil {
				return nil, err
			}
			gk := schema.GroupKind{Group: cr.Group, Kind: cr.Kind}
			a.rules[gk] = append(a.rules[gk], r)
		}
	}
	return a, nil
}

// Assess returns the health of obj with the built-in and generic rules. A nil object
// is Unknown.
func Assess(obj *unstructured.Unstructured) Status {
	var a *Assessor
	return a.Assess(obj)
}

// Assess returns the health of obj. A nil object is Unknown; an object whose status
// has an unexpected shape is assessed as if the odd fields were absent.
func (a *Assessor) Assess(obj *unstructured.Unstructured) Status {
	if obj == nil || obj.Object == nil {
		return status(Unknown, "no object")
	}
	m := obj.Object
	kind := str(m, "kind")
	group := groupOf(str(m, "apiVersion"))
	if a != nil && len(a.rules) > 0 {
		for _, r := range a.rules[schema.GroupKind{Group: group, Kind: kind}] {
			if s, ok := r(obj); ok {
				return s
			}
		}
	}
	// A Namespace reports its own termination, with the reason it is stuck.
	if ts := str(field(m, "metadata"), "deletionTimestamp"); ts != "" && (kind != "Namespace" || group != "") {
		return status(Progressing, kind+" is being deleted")
	}
	if rule := builtin(group, kind); rule != nil {
		return rule(m)
	}
	return generic(m)
}

// groupOf returns the group of an apiVersion ("apps/v1" → "apps", "v1" → "").
func groupOf(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// builtinRule assesses one kind on the raw object map.
type builtinRule func(obj map[string]any) Status

// builtin returns the rule for a built-in kind, or nil.
func builtin(group, kind string) builtinRule {
	switch group {
	case "apps":
		switch kind {
		case "Deployment":
			return deployment
		case "StatefulSet":
			return statefulSet
		case "DaemonSet":
			return daemonSet
		case "ReplicaSet":
			return replicaSet
		}
	case "":
		switch kind {
		case "Pod":
			return pod
		case "PersistentVolumeClaim":
			return persistentVolumeClaim
		case "Service":
			return service
		case "Namespace":
			return namespace
		case "ReplicationController":
			return replicaSet
		}
	case "batch":
		switch kind {
		case "Job":
			return job
		case "CronJob":
			return cronJob
		}
	case "networking.k8s.io":
		if kind == "Ingress" {
			return ingress
		}
	case "autoscaling":
		if kind == "HorizontalPodAutoscaler" {
			return horizontalPodAutoscaler
		}
	case "policy":
		if kind == "PodDisruptionBudget" {
			return podDisruptionBudget
		}
	case "apiextensions.k8s.io":
		if kind == "CustomResourceDefinition" {
			return customResourceDefinition
		}
	case "apiregistration.k8s.io":
		if kind == "APIService" {
			return apiService
		}
	}
	return nil
}
