package health_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gitopskit/gitopskit/health"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// fixture is a file of testdata/rules/<project>/<Kind>/: an object as its
// controller writes it, by the project's documented status semantics, and the
// health it should get.
type fixture struct {
	path    string
	Code    health.Code    `json:"code"`
	Message string         `json:"message"` // a substring of the message
	Object  map[string]any `json:"object"`
	obj     *unstructured.Unstructured
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "rules", "*", "*", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []fixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var fx fixture
		require.NoError(t, yaml.UnmarshalStrict(data, &fx), f)
		require.True(t, fx.Code.Valid(), "%s: code %q", f, fx.Code)
		obj, err := yaml.Marshal(fx.Object)
		require.NoError(t, err)
		fx.obj = loadObject(t, obj)
		fx.path = f
		out = append(out, fx)
	}
	return out
}

// project and kind of a fixture, from its path.
func (f fixture) project() string { return filepath.Base(filepath.Dir(filepath.Dir(f.path))) }
func (f fixture) kind() string    { return filepath.Base(filepath.Dir(f.path)) }

// TestLibraryFixtures assesses every fixture of the rule library with the default
// assessor.
func TestLibraryFixtures(t *testing.T) {
	for _, f := range loadFixtures(t) {
		name := strings.TrimSuffix(strings.TrimPrefix(f.path, filepath.Join("testdata", "rules")+string(filepath.Separator)), ".yaml")
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, f.kind(), f.obj.GetKind(), "the fixture's directory names its kind")
			s := health.Assess(f.obj)
			assert.Equal(t, f.Code, s.Code, s.Message)
			assert.Contains(t, s.Message, f.Message)
		})
	}
}

// TestLibraryCoverage checks that every kind a library rule names has at least three
// fixtures, that every rule decides at least one fixture differently from what the
// assessment without it says (so no rule is dead), and reports how many fixtures
// get the right code without the library.
func TestLibraryCoverage(t *testing.T) {
	fixtures := loadFixtures(t)
	perKind := map[string]int{} // "project/Kind"
	for _, f := range fixtures {
		perKind[f.project()+"/"+f.kind()]++
	}
	byRule := map[string][]health.CELRule{}
	for _, r := range health.LibraryRules() {
		byRule[r.Name] = append(byRule[r.Name], r)
	}
	require.NotEmpty(t, byRule)
	for name, rs := range byRule {
		project := strings.Split(name, "/")[0]
		var mine []fixture
		for _, f := range fixtures {
			if f.project() != project {
				continue
			}
			for _, r := range rs {
				if matches(r, f.obj) {
					mine = append(mine, f)
					break
				}
			}
		}
		for _, r := range rs {
			if r.Kind != "*" {
				assert.GreaterOrEqual(t, perKind[project+"/"+r.Kind], 3, "fixtures of %s/%s for rule %s", project, r.Kind, name)
			}
		}
		assert.GreaterOrEqual(t, len(mine), 3, "fixtures of rule %s", name)
		without, err := health.NewAssessor(health.Options{DisabledRules: []string{name}})
		require.NoError(t, err)
		changed := 0
		for _, f := range mine {
			if without.Assess(f.obj) != health.Assess(f.obj) {
				changed++
			}
		}
		assert.Positive(t, changed, "rule %s decides none of its %d fixtures", name, len(mine))
	}

	off, err := health.NewAssessor(health.Options{DisableLibrary: true})
	require.NoError(t, err)
	right := 0
	for _, f := range fixtures {
		if off.Assess(f.obj).Code == f.Code {
			right++
		}
	}
	kinds := make([]string, 0, len(perKind))
	for k := range perKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	t.Logf("%d fixtures of %d kinds; without the library %d get the right code", len(fixtures), len(kinds), right)
	for _, k := range kinds {
		t.Logf("  %s: %d", k, perKind[k])
	}
}

// matches reports whether rule r selects obj (group patterns as in health.CELRule).
func matches(r health.CELRule, obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	if r.Kind != "*" && r.Kind != gvk.Kind {
		return false
	}
	switch {
	case r.Group == "*":
		return true
	case strings.HasPrefix(r.Group, "*."):
		return strings.HasSuffix(gvk.Group, r.Group[1:])
	}
	return r.Group == gvk.Group
}

// TestLibraryRulesCompile compiles every library rule the way NewAssessor compiles
// custom rules, eagerly: a library rule that does not type-check fails here, not on
// the first object of its kind.
func TestLibraryRulesCompile(t *testing.T) {
	rules := health.LibraryRules()
	require.NotEmpty(t, rules)
	_, err := health.NewAssessor(health.Options{CELRules: rules})
	require.NoError(t, err)
}

// TestLibraryOptions: the zero Assessor uses the library, DisableLibrary turns it
// off, DisabledRules leaves one rule out (and refuses a name it does not know), and
// a CELRule with a library rule's name replaces it.
func TestLibraryOptions(t *testing.T) {
	issuing := loadObject(t, []byte(`{apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: c, generation: 1},
		status: {conditions: [{type: Ready, status: "False", reason: DoesNotExist}, {type: Issuing, status: "True", message: "Issuing certificate as Secret does not exist"}]}}`))
	library := health.Status{Code: health.Progressing, Message: "issuing: Issuing certificate as Secret does not exist"}
	generic := health.Status{Code: health.Progressing, Message: "not ready: DoesNotExist"}

	var zero health.Assessor
	assert.Equal(t, library, zero.Assess(issuing))
	var nilAssessor *health.Assessor
	assert.Equal(t, library, nilAssessor.Assess(issuing))

	off, err := health.NewAssessor(health.Options{DisableLibrary: true})
	require.NoError(t, err)
	assert.Equal(t, generic, off.Assess(issuing))

	without, err := health.NewAssessor(health.Options{DisabledRules: []string{"cert-manager/certificate"}})
	require.NoError(t, err)
	assert.Equal(t, generic, without.Assess(issuing))
	_, err = health.NewAssessor(health.Options{DisabledRules: []string{"cert-manager/certificates"}})
	assert.ErrorIs(t, err, health.ErrInvalidRule)
	assert.ErrorContains(t, err, `no library rule "cert-manager/certificates"`)

	replaced, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{Name: "cert-manager/certificate",
		Group: "cert-manager.io", Kind: "Certificate", Expression: `{"code": "Healthy", "message": "mine"}`}}})
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Healthy, Message: "mine"}, replaced.Assess(issuing))
	// Another kind of the library still has its rule.
	assert.Equal(t, health.Degraded, replaced.Assess(loadObject(t, []byte(`{apiVersion: cert-manager.io/v1, kind: Issuer, metadata: {name: i},
		status: {conditions: [{type: Ready, status: "False", reason: ErrInitIssuer}]}}`))).Code)

	group, err := health.NewAssessor(health.Options{CELRules: []health.CELRule{{Name: "all-of-crossplane", Group: "*.crossplane.io", Kind: "*",
		Expression: `{"code": "Suspended", "message": object.kind}`}}})
	require.NoError(t, err)
	assert.Equal(t, health.Status{Code: health.Suspended, Message: "Provider"}, group.Assess(loadObject(t, []byte(`{apiVersion: pkg.crossplane.io/v1, kind: Provider, metadata: {name: p}}`))))
	assert.Equal(t, health.Status{Code: health.Suspended, Message: "RDSInstance"}, group.Assess(loadObject(t, []byte(`{apiVersion: database.aws.crossplane.io/v1beta1, kind: RDSInstance, metadata: {name: p}}`))))
	assert.NotEqual(t, health.Suspended, group.Assess(loadObject(t, []byte(`{apiVersion: crossplane.io.example.com/v1, kind: X, metadata: {name: p}}`))).Code)

	_, err = health.NewAssessor(health.Options{CELRules: []health.CELRule{{Name: "bad", Group: "cert-*.io", Kind: "Certificate", Expression: `{}`}}})
	assert.ErrorIs(t, err, health.ErrInvalidRule)
}
