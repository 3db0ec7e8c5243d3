package health

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// rulesFS holds the rule library: one YAML file per rule, rules/<project>/<name>.yaml,
// with the group and kinds it assesses and its CEL expression.
//
//go:embed rules
var rulesFS embed.FS

// ruleFile is one file of the rule library.
type ruleFile struct {
	// Group is a group name or pattern (see [CELRule]).
	Group string `json:"group"`
	// Kinds are kind names, or ["*"].
	Kinds []string `json:"kinds"`
	// Status says whether the objects' controller always writes a status:
	// "expected" (the default for a rule that names its group) makes an object
	// without status Progressing until it has one; "optional" leaves it to the
	// expression. Unset on a group pattern, the CRD's status subresource tells.
	Status string `json:"status,omitempty"`
	// Condition, required of a rule of every group ("*"), is the type of a status
	// condition the rule concerns: the rule runs only on objects that have one, so
	// that the others do not pay for a CEL evaluation.
	Condition string `json:"condition,omitempty"`
	// Expression is the CEL expression.
	Expression string `json:"expression"`

	name string
	// checked parses and type-checks Expression once. The checked AST is immutable
	// and the same for every Assessor, and checking costs milliseconds per rule
	// while planning it for an Assessor's cost limit costs a hundredth of that; so
	// it is shared, and each Assessor plans its own program.
	checked func() (*cel.Ast, error)
}

// libraryFiles reads and checks the embedded rule files once: they are immutable
// data, the same for every Assessor.
var libraryFiles = sync.OnceValues(func() ([]*ruleFile, error) {
	var files []*ruleFile
	err := fs.WalkDir(rulesFS, "rules", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".yaml" {
			return err
		}
		data, err := rulesFS.ReadFile(p)
		if err != nil {
			return err
		}
		f := &ruleFile{name: strings.TrimSuffix(strings.TrimPrefix(p, "rules/"), ".yaml")}
		if err := yaml.UnmarshalStrict(data, f); err != nil {
			return fmt.Errorf("health rule library %s: %w", p, err)
		}
		if len(f.Kinds) == 0 || f.Expression == "" || (f.Status != "" && f.Status != "expected" && f.Status != "optional") {
			return fmt.Errorf("health rule library %s: want kinds, an expression and a status of expected or optional", p)
		}
		if f.Group == "*" && f.Condition == "" {
			return fmt.Errorf("health rule library %s: a rule of every group needs a condition", p)
		}
		for _, k := range f.Kinds {
			if !validSelector(f.Group, k) {
				return fmt.Errorf("health rule library %s: invalid group %q or kind %q", p, f.Group, k)
			}
		}
		f.checked = sync.OnceValues(func() (*cel.Ast, error) {
			env, err := celEnv()
			if err != nil {
				return nil, err
			}
			return checkExpression(env, f.Expression)
		})
		files = append(files, f)
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, err
})

// libraryHas reports whether the library has a rule called name.
func libraryHas(name string) bool {
	files, _ := libraryFiles()
	for _, f := range files {
		if f.name == name {
			return true
		}
	}
	return false
}

// LibraryRules returns the rules of the rule library, one per group and kind they
// assess, by name: a rule to read, to leave out with [Options.DisabledRules], or to
// replace with a [CELRule] of the same name. The library covers the custom
// resources GitOps users run most: cert-manager, Argo Rollouts and Workflows, Flux,
// Crossplane, KEDA, External Secrets, Sealed Secrets, Knative Serving, Istio, the
// Prometheus Operator, Strimzi, Cluster API, Tekton, CloudNativePG, Velero, Kyverno,
// Elastic ECK, the Keycloak operator and the RabbitMQ cluster operator.
func LibraryRules() []CELRule {
	files, _ := libraryFiles()
	var out []CELRule
	for _, f := range files {
		for _, k := range f.Kinds {
			out = append(out, CELRule{Name: f.name, Group: f.Group, Kind: k, Expression: f.Expression})
		}
	}
	return out
}

// library is an Assessor's instance of the rule library: each rule compiles the
// first time an object of its kind is assessed.
//
// Library rules run without a cost limit: they are part of this package, reviewed
// and tested, and linear in the size of the object (they read its status and walk
// its conditions a few times), which the API server bounds; cost tracking would
// take a third of their time.
type library struct {
	exact    map[[2]string]*libraryRule // by group and kind
	patterns []*libraryRule             // a group pattern *.suffix
	any      []*libraryRule             // every group: they match by the status's shape
}

// libraryRule is one rule of an Assessor's library.
type libraryRule struct {
	file   *ruleFile
	status string // "expected", "optional", or "" to ask the CRD

	once sync.Once
	rule Rule
}

// newLibrary returns the library without the rules named in off.
func newLibrary(off map[string]bool) (*library, error) {
	files, err := libraryFiles()
	if err != nil {
		return nil, err
	}
	lib := &library{exact: map[[2]string]*libraryRule{}}
	for _, f := range files {
		if off[f.name] {
			continue
		}
		exact := !strings.Contains(f.Group, "*")
		r := &libraryRule{file: f, status: f.Status}
		if r.status == "" && exact {
			r.status = "expected"
		}
		switch {
		case f.Group == "*":
			lib.any = append(lib.any, r)
		case !exact || f.Kinds[0] == "*":
			lib.patterns = append(lib.patterns, r)
		default:
			for _, k := range f.Kinds {
				lib.exact[[2]string{f.Group, k}] = r
			}
		}
	}
	return lib, nil
}

// lookup returns the rule of group and kind, or nil; rules of every group are left
// to runAny.
func (l *library) lookup(group, kind string) *libraryRule {
	if r := l.exact[[2]string{group, kind}]; r != nil {
		return r
	}
	for _, r := range l.patterns {
		if matchGroup(r.file.Group, group) && r.matchKind(kind) {
			return r
		}
	}
	return nil
}

// runAny runs the rules of every group until one decides.
func (l *library) runAny(obj *unstructured.Unstructured) (Status, bool) {
	kind := obj.GetKind()
	conds := list(field(obj.Object, "status"), "conditions")
	for _, r := range l.any {
		if r.matchKind(kind) && hasCondition(conds, r.file.Condition) {
			if s, ok := r.run(obj); ok {
				return s, true
			}
		}
	}
	return Status{}, false
}

func (r *libraryRule) matchKind(kind string) bool {
	for _, k := range r.file.Kinds {
		if matchKind(k, kind) {
			return true
		}
	}
	return false
}

// run compiles the rule on first use and runs it. A rule that does not compile (a
// bug of the library, which its tests would catch) makes the object Unknown.
func (r *libraryRule) run(obj *unstructured.Unstructured) (Status, bool) {
	r.once.Do(func() {
		env, err := celEnv()
		var ast *cel.Ast
		if err == nil {
			ast, err = r.file.checked()
		}
		if err == nil {
			r.rule, err = planExpression(env, r.file.name, ast, 0)
		}
		if err != nil {
			msg := fmt.Sprintf("library rule %s: %v", r.file.name, err)
			r.rule = func(*unstructured.Unstructured) (Status, bool) { return status(Unknown, msg), true }
		}
	})
	return r.rule(obj)
}

// hasCondition reports whether conds holds a condition of type t.
func hasCondition(conds []any, t string) bool {
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && str(m, "type") == t {
			return true
		}
	}
	return false
}
