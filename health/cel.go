package health

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	"github.com/google/cel-go/parser"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8scel "k8s.io/apiserver/pkg/cel/library"
)

// CELRule is a custom rule in CEL (https://cel.dev), the expression language the
// Kubernetes API server uses for validation rules, for objects of one group and kind.
//
// The expression sees the object as the variable `object` (its JSON form: maps, lists,
// strings, int, double, bool) and returns either a map with the keys "code" (one of
// the six codes, as a string) and "message", or a map without "code" ({}) or null to
// leave the object to the next rules (in a conditional, whose branches must have one
// type, use {}):
//
//	object.?status.?phase.orValue("") == "Ready"
//	    ? {"code": "Healthy", "message": "ready"}
//	    : {"code": "Progressing", "message": "waiting for phase Ready"}
//
// The environment is the API server's (Kubernetes 1.37): optional field syntax
// (object.?status.?phase.orValue("")), cel.bind, the extended string, list and set
// functions, two-variable comprehensions, and Kubernetes' list, regex, URL, IP,
// CIDR, quantity, format and semver libraries. Reading a field that does not exist
// is an evaluation error (read it with the optional syntax, or guard each parent
// with has()); an evaluation error, an exceeded cost limit or an invalid code makes
// the object Unknown with a message naming the rule and the expression that failed.
type CELRule struct {
	// Name names the rule in errors and messages. A rule named like a library rule
	// ("cert-manager/certificate") replaces it.
	Name string
	// Group and Kind select the objects the rule assesses; Group is "" for the core
	// group. Group may also be a pattern, "*.crossplane.io" for every group under
	// crossplane.io or "*" for every group, and Kind "*" for every kind.
	Group, Kind string
	// Expression is the CEL expression.
	Expression string
}

// ErrInvalidRule is wrapped by the errors of rules that do not compile or type-check.
var ErrInvalidRule = errors.New("invalid health rule")

// celEnv returns the environment of every rule. It is built once (about 2ms, most
// of it declaring the Kubernetes libraries' functions) and shared: a cel.Env is
// immutable and safe for concurrent use, and it depends on no Assessor's options.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	env, err := cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.EagerlyValidateDeclarations(true),
		ext.Bindings(),
		ext.Strings(ext.StringsVersion(2)),
		ext.Sets(),
		ext.Lists(ext.ListsVersion(3)),
		ext.TwoVarComprehensions(),
		k8scel.Lists(k8scel.ListsVersion(1)),
		k8scel.Regex(),
		k8scel.URLs(),
		k8scel.IP(),
		k8scel.CIDR(),
		k8scel.Quantity(),
		k8scel.Format(),
		k8scel.SemverLib(k8scel.SemverVersion(1)),
	)
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	return env, nil
})

// compile parses, type-checks and plans the rule once, so that assessment only
// evaluates it.
func (r CELRule) compile(env *cel.Env, costLimit uint64) (Rule, error) {
	name := r.Name
	if name == "" {
		name = r.Group + "/" + r.Kind
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w %q (%s/%s): %s", ErrInvalidRule, name, r.Group, r.Kind, fmt.Sprintf(format, args...))
	}
	if r.Kind == "" {
		return nil, fail("kind is empty")
	}
	if !validSelector(r.Group, r.Kind) {
		return nil, fail("group and kind must be names, a group pattern *.suffix or *, and kind *")
	}
	rule, err := compileExpression(env, name, r.Expression, costLimit)
	if err != nil {
		return nil, fail("%v", err)
	}
	return rule, nil
}

// compileExpression compiles the expression of the rule called name.
func compileExpression(env *cel.Env, name, expression string, costLimit uint64) (Rule, error) {
	ast, err := checkExpression(env, expression)
	if err != nil {
		return nil, err
	}
	return planExpression(env, name, ast, costLimit)
}

// checkExpression parses and type-checks an expression: the costly part of
// compiling it (a few milliseconds for a rule of the library).
func checkExpression(env *cel.Env, expression string) (*cel.Ast, error) {
	ast, iss := env.Compile(expression)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	switch out := ast.OutputType(); {
	case out.IsExactType(types.DynType), out.IsExactType(types.NullType):
	case out.Kind() == types.MapKind:
		if key := out.Parameters()[0]; !key.IsExactType(types.StringType) && !key.IsExactType(types.DynType) {
			return nil, fmt.Errorf("returns %s, want a map with string keys {\"code\": ..., \"message\": ...} or null", out)
		}
	default:
		return nil, fmt.Errorf("returns %s, want a map {\"code\": ..., \"message\": ...} or null", out)
	}
	return ast, nil
}

// planExpression makes a checked expression a Rule with the cost limit; zero means
// no limit, and no cost tracking (a third of an evaluation's time).
func planExpression(env *cel.Env, name string, ast *cel.Ast, costLimit uint64) (Rule, error) {
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if costLimit > 0 {
		opts = append(opts,
			cel.CostLimit(costLimit),
			cel.CostTracking(&k8scel.CostEstimator{}),
			cel.CostTrackerOptions(interpreter.PresenceTestHasCost(false)))
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return nil, err
	}
	return func(obj *unstructured.Unstructured) (Status, bool) {
		out, _, err := prg.Eval(objectActivation{obj.Object})
		if err != nil {
			return status(Unknown, "rule "+name+": "+explainEvalError(ast, err)), true
		}
		return celResult(name, out)
	}, nil
}

// explainEvalError says where an evaluation failed: the subexpression, its place
// in the rule and, for a field read on an object that lacks it, the optional
// syntax that reads it without failing.
func explainEvalError(ast *cel.Ast, err error) string {
	var cerr *types.Err
	if !errors.As(err, &cerr) || cerr.NodeID() == 0 {
		return err.Error()
	}
	id := cerr.NodeID()
	native := ast.NativeRep()
	var expr string
	for _, n := range celast.MatchDescendants(celast.NavigateAST(native), celast.AllMatcher()) {
		if n.ID() == id {
			expr, _ = parser.Unparse(n, native.SourceInfo())
			break
		}
	}
	msg := err.Error()
	if expr != "" {
		msg = expr + ": " + msg
	}
	if loc := native.SourceInfo().GetStartLocation(id); loc.Line() > 0 {
		msg += fmt.Sprintf(" (line %d, column %d)", loc.Line(), loc.Column()+1)
	}
	if strings.HasPrefix(err.Error(), "no such key") {
		path := strings.TrimSuffix(strings.TrimPrefix(expr, "has("), ")")
		if selectPath.MatchString(path) {
			msg += "; read an optional field with " + strings.ReplaceAll(path, ".", ".?") + ".orValue(...)"
		}
	}
	return msg
}

// selectPath matches a chain of field selections such as object.status.conditions.
var selectPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

// objectActivation binds `object` without allocating a map per evaluation.
type objectActivation struct{ obj map[string]any }

func (a objectActivation) ResolveName(name string) (any, bool) {
	if name == "object" {
		return a.obj, true
	}
	return nil, false
}

func (objectActivation) Parent() interpreter.Activation { return nil }

func celResult(name string, out ref.Val) (Status, bool) {
	if out == types.NullValue {
		return Status{}, false
	}
	m, ok := out.(traits.Mapper)
	if !ok {
		return status(Unknown, "rule "+name+": returned "+out.Type().TypeName()+", want a map"), true
	}
	code, found := stringOf(m, "code")
	if !found {
		return Status{}, false
	}
	msg, _ := stringOf(m, "message")
	if c := Code(code); !c.Valid() {
		return status(Unknown, fmt.Sprintf("rule %s: returned code %q, want one of Healthy, Progressing, Degraded, Suspended, Missing, Unknown", name, code)), true
	}
	return status(Code(code), msg), true
}

// stringOf returns m[key] and whether the key is present; a value that is not a
// string reads as "".
func stringOf(m traits.Mapper, key string) (string, bool) {
	v, found := m.Find(types.String(key))
	if !found {
		return "", false
	}
	s, _ := v.(types.String)
	return string(s), true
}
