package health

import (
	"errors"
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// CELRule is a custom rule in CEL (https://cel.dev), the expression language the
// Kubernetes API server uses for validation rules, for objects of one group and kind.
//
// The expression sees the object as the variable `object` (its JSON form: maps, lists,
// strings, int, double, bool) and returns either a map with the keys "code" (one of
// the six codes, as a string) and "message", or a map without "code" ({}) or null to
// leave the object to the built-in and generic rules (in a conditional, whose
// branches must have one type, use {}):
//
//	has(object.status) && object.status.phase == "Ready"
//	    ? {"code": "Healthy", "message": "ready"}
//	    : {"code": "Progressing", "message": "waiting for phase Ready"}
//
// The string extension functions (split, lowerAscii, format...) are available.
// Reading a field that does not exist is an evaluation error (guard it with has());
// an evaluation error, an exceeded cost limit or an invalid code makes the object
// Unknown with a message naming the rule.
type CELRule struct {
	// Name names the rule in errors and messages.
	Name string
	// Group and Kind select the objects the rule assesses; Group is "" for the core
	// group.
	Group, Kind string
	// Expression is the CEL expression.
	Expression string
}

// ErrInvalidRule is wrapped by the errors of rules that do not compile or type-check.
var ErrInvalidRule = errors.New("invalid health rule")

func celEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType), ext.Strings())
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	return env, nil
}

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
	ast, iss := env.Compile(r.Expression)
	if iss.Err() != nil {
		return nil, fail("%v", iss.Err())
	}
	switch out := ast.OutputType(); {
	case out.IsExactType(types.DynType), out.IsExactType(types.NullType):
	case out.Kind() == types.MapKind:
		if key := out.Parameters()[0]; !key.IsExactType(types.StringType) && !key.IsExactType(types.DynType) {
			return nil, fail("returns %s, want a map with string keys {\"code\": ..., \"message\": ...} or null", out)
		}
	default:
		return nil, fail("returns %s, want a map {\"code\": ..., \"message\": ...} or null", out)
	}
	prg, err := env.Program(ast, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fail("%v", err)
	}
	return func(obj *unstructured.Unstructured) (Status, bool) {
		out, _, err := prg.Eval(objectActivation{obj.Object})
		if err != nil {
			return status(Unknown, "rule "+name+": "+err.Error()), true
		}
		return celResult(name, out)
	}, nil
}

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
