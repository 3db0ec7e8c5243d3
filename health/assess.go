package health

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Rule assesses objects of one group and kind. It returns ok false to leave the
// object to the next rule: the rule library's, the built-in rule of its kind, then
// the generic one. A Rule must not modify obj and must be safe for concurrent use.
type Rule func(obj *unstructured.Unstructured) (s Status, ok bool)

// Options configure an [Assessor].
type Options struct {
	// Rules are custom rules in Go, per group and kind. They run before the CEL
	// rules and every other rule of the same kind. The group may be a pattern, as in
	// [CELRule].
	Rules map[schema.GroupKind]Rule
	// CELRules are custom rules in CEL (see [CELRule]). They are compiled and
	// type-checked by [NewAssessor], and run before the rule library. A CEL rule
	// whose Name is that of a library rule replaces it.
	CELRules []CELRule
	// CELCostLimit bounds the work of one evaluation of a custom CEL rule, in CEL's
	// cost units (about one per field access or comparison). Zero means 1,000,000,
	// the Kubernetes API server's limit for one validation rule. (Library rules,
	// linear in the object's size, are not metered.)
	CELCostLimit uint64
	// DisableLibrary turns the rule library off (see [LibraryRules]): custom
	// resources then follow the custom rules and the generic conventions only.
	DisableLibrary bool
	// DisabledRules names library rules to leave out, such as
	// "cert-manager/certificate".
	DisabledRules []string
	// StatusGracePeriod bounds how long an object whose controller is expected to
	// write a status (its CRD has a status subresource, or a library rule expects
	// one) stays Progressing while it has none: once its creationTimestamp is this
	// old, such an object is assessed as if it needed no status (Healthy unless a
	// rule says otherwise). Zero means no bound: it stays Progressing until a status
	// appears, and a wait ends only with it or with the timeout.
	StatusGracePeriod time.Duration
}

// DefaultCELCostLimit is the cost limit of a CEL evaluation when
// [Options.CELCostLimit] is zero.
const DefaultCELCostLimit = 1_000_000

// Assessor tells the health of objects. For each object the first rule that decides
// wins, in this order:
//
//  1. an object being deleted is Progressing (a Namespace says why it is stuck);
//  2. the custom rules of its kind, Go then CEL;
//  3. an object without status whose controller is expected to write one (and
//     that is not suspended with spec.suspend) is Progressing (see
//     [Options.StatusGracePeriod]);
//  4. the rule library's rule of its kind ([LibraryRules]);
//  5. the built-in rule of its kind;
//  6. the library rules that match any group by the status's shape;
//  7. the generic kstatus and phase conventions.
//
// The zero value and nil use the rule library, the built-in and the generic rules.
// Library rules are compiled the first time an object of their kind is assessed.
// An Assessor is immutable and safe for concurrent use.
type Assessor struct {
	custom    rules
	lib       *library // nil: the default assessor's, unless noLibrary
	noLibrary bool
	grace     time.Duration
}

// NewAssessor returns an Assessor with the custom rules of opts. A CEL rule that
// does not compile or type-check is an error naming the rule; so is a disabled
// library rule that does not exist.
func NewAssessor(opts Options) (*Assessor, error) {
	limit := opts.CELCostLimit
	if limit == 0 {
		limit = DefaultCELCostLimit
	}
	a := &Assessor{grace: opts.StatusGracePeriod}
	for gk, r := range opts.Rules {
		if r == nil {
			return nil, fmt.Errorf("%w for %s: nil function", ErrInvalidRule, gk)
		}
		if !validSelector(gk.Group, gk.Kind) {
			return nil, fmt.Errorf("%w for %s: group and kind must be names, a group pattern *.suffix or *, and kind *", ErrInvalidRule, gk)
		}
		a.custom.add(gk.Group, gk.Kind, r)
	}
	overridden := map[string]bool{}
	if len(opts.CELRules) > 0 {
		env, err := celEnv()
		if err != nil {
			return nil, err
		}
		for _, cr := range opts.CELRules {
			r, err := cr.compile(env, limit)
			if err != nil {
				return nil, err
			}
			a.custom.add(cr.Group, cr.Kind, r)
			overridden[cr.Name] = true
		}
	}
	if opts.DisableLibrary {
		a.noLibrary = true
		return a, nil
	}
	off := map[string]bool{}
	for _, name := range opts.DisabledRules {
		if !libraryHas(name) {
			return nil, fmt.Errorf("%w: no library rule %q to disable", ErrInvalidRule, name)
		}
		off[name] = true
	}
	for name := range overridden {
		off[name] = true
	}
	lib, err := newLibrary(off)
	if err != nil {
		return nil, err
	}
	a.lib = lib
	return a, nil
}

// defaultAssessor serves [Assess] and the nil *Assessor. It is built once because
// Assess has nowhere else to keep it and building it per call would compile each
// library rule per object; it is immutable once built (its rules compile lazily
// behind their own sync.Once), so sharing it is not shared mutable state.
var defaultAssessor = sync.OnceValue(func() *Assessor {
	lib, err := newLibrary(nil)
	if err != nil {
		// The library is embedded and its loading is tested: this cannot happen in a
		// released build. Without it, assessment goes on with the other rules.
		return &Assessor{noLibrary: true}
	}
	return &Assessor{lib: lib}
})

// Assess returns the health of obj with the rule library, the built-in and the
// generic rules. A nil object is Unknown.
func Assess(obj *unstructured.Unstructured) Status {
	return defaultAssessor().Assess(obj)
}

// Assess returns the health of obj. A nil object is Unknown; an object whose status
// has an unexpected shape is assessed as if the odd fields were absent.
func (a *Assessor) Assess(obj *unstructured.Unstructured) Status {
	s, _ := a.assess(obj, hintNone, time.Now())
	return s
}

// statusHint is what the caller knows of an object's resource type: whether its
// CRD declares a status subresource.
type statusHint uint8

const (
	hintNone statusHint = iota // nothing known
	hintStatusSubresource
	hintNoStatusSubresource
)

// assess is Assess with what the caller knows of the resource type. It also returns
// when the verdict changes with time alone (the end of the grace period of an
// object waiting for its first status), or the zero time.
func (a *Assessor) assess(obj *unstructured.Unstructured, hint statusHint, now time.Time) (Status, time.Time) {
	if a == nil {
		a = defaultAssessor()
	}
	if obj == nil || obj.Object == nil {
		return status(Unknown, "no object"), time.Time{}
	}
	m := obj.Object
	kind := str(m, "kind")
	group := groupOf(str(m, "apiVersion"))
	builtinRule := builtin(group, kind)

	if ts := str(field(m, "metadata"), "deletionTimestamp"); ts != "" {
		if group == "" && kind == "Namespace" {
			return namespace(m), time.Time{}
		}
		return status(Progressing, kind+" is being deleted"), time.Time{}
	}
	if s, ok := a.custom.run(group, kind, obj); ok {
		return s, time.Time{}
	}
	lib := a.library()
	var lr *libraryRule
	if lib != nil && !kubernetesGroup(group) {
		lr = lib.lookup(group, kind)
	}
	// A suspended object's controller may never write a status (Flux's do not).
	if len(field(m, "status")) == 0 && builtinRule == nil && !boolean(field(m, "spec"), "suspend") && expectsStatus(lr, hint) {
		if s, until, waiting := a.waitingForStatus(m, kind, now); waiting {
			return s, until
		}
	}
	if lr != nil {
		if s, ok := lr.run(obj); ok {
			return s, time.Time{}
		}
	}
	if builtinRule != nil {
		return builtinRule(m), time.Time{}
	}
	if lib != nil && !kubernetesGroup(group) {
		if s, ok := lib.runAny(obj); ok {
			return s, time.Time{}
		}
	}
	return generic(m), time.Time{}
}

// library returns the rule library a uses, or nil when it is off.
func (a *Assessor) library() *library {
	switch {
	case a == nil:
		return defaultAssessor().lib
	case a.lib == nil && !a.noLibrary:
		return defaultAssessor().lib // the zero value
	}
	return a.lib
}

// expectsStatus reports whether an object without status waits for its
// controller: a library rule knows for its kinds ("optional": the controller may
// never write one), else the CRD's status subresource tells.
func expectsStatus(lr *libraryRule, hint statusHint) bool {
	if lr != nil && lr.status != "" {
		return lr.status == "expected"
	}
	return hint == hintStatusSubresource
}

// waitingForStatus returns Progressing for an object that has no status yet, unless
// the grace period since its creation has passed. until is the end of the grace
// period, when the verdict changes by itself.
func (a *Assessor) waitingForStatus(obj map[string]any, kind string, now time.Time) (s Status, until time.Time, waiting bool) {
	msg := "waiting for the controller of the " + kind + " to write its status"
	if a.grace <= 0 {
		return status(Progressing, msg), time.Time{}, true
	}
	created, err := time.Parse(time.RFC3339, str(field(obj, "metadata"), "creationTimestamp"))
	if err != nil {
		// Not from the API server: nothing to count the grace period from.
		return status(Progressing, msg), time.Time{}, true
	}
	until = created.Add(a.grace)
	if !now.Before(until) {
		return Status{}, time.Time{}, false
	}
	return status(Progressing, msg+" (for up to "+a.grace.String()+" after creation)"), until, true
}

// kubernetesGroup reports a group of Kubernetes' own APIs, whose objects the
// shape-matching library rules never concern: the core group, groups without a
// dot (apps, batch, policy) and the *.k8s.io groups.
func kubernetesGroup(group string) bool {
	return !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io")
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
