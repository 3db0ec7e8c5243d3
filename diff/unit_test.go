package diff

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func obj(t testing.TB, s string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(s), &u.Object))
	return u
}

func TestIgnoreRules(t *testing.T) {
	base := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, annotations: {example.com/hash: abc, keep: "1"}}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - {name: web, image: nginx, env: [{name: A, value: "1"}]}
      - {name: proxy, image: envoy}
`
	cases := []struct {
		rule IgnoreRule
		gone []string
	}{
		{IgnoreRule{Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}, []string{".spec.replicas"}},
		{IgnoreRule{JSONPointers: []string{"/metadata/annotations/example.com~1hash"}}, []string{`.metadata.annotations["example.com/hash"]`}},
		{IgnoreRule{JSONPointers: []string{"/spec/template/spec/containers/1"}}, []string{`.spec.template.spec.containers[name="proxy"]`}},
		{IgnoreRule{JSONPaths: []string{".spec.template.spec.containers[*].image"}}, []string{`.spec.template.spec.containers[name="proxy"].image`, `.spec.template.spec.containers[name="web"].image`}},
		{IgnoreRule{JSONPaths: []string{`$.spec.template.spec.containers[?(@.name == 'web')].env`}}, []string{`.spec.template.spec.containers[name="web"].env`}},
		{IgnoreRule{JSONPaths: []string{"metadata.annotations['example.com/hash']"}}, []string{`.metadata.annotations["example.com/hash"]`}},
		{IgnoreRule{JSONPaths: []string{".spec.template.spec.containers[0].env[0].value"}}, []string{`.spec.template.spec.containers[name="web"].env[name="A"].value`}},
		{IgnoreRule{Namespace: "other", JSONPointers: []string{"/spec/replicas"}}, nil},
		{IgnoreRule{Group: "batch", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}, nil},
	}
	for _, c := range cases {
		rules, err := compileRules([]IgnoreRule{c.rule})
		require.NoError(t, err)
		u := normalize(obj(t, base))
		applyIgnore(u, rules)
		assert.Equal(t, c.gone, comparePaths(u.Object, normalize(obj(t, base)).Object), "%+v", c.rule)
	}
}

func TestIgnoreRuleErrors(t *testing.T) {
	for _, r := range []IgnoreRule{
		{JSONPointers: []string{"spec"}},
		{JSONPointers: []string{"/a~2"}},
		{JSONPaths: []string{""}},
		{JSONPaths: []string{".a[?(@.name=='x'"}},
		{JSONPaths: []string{".a[x]"}},
		{JSONPaths: []string{".a['b"}},
		{JSONPaths: []string{".a..b"}},
	} {
		_, err := compileRules([]IgnoreRule{r})
		assert.Error(t, err, "%+v", r)
	}
}

func TestNormalizeMeaning(t *testing.T) {
	a := normalize(obj(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, uid: x, resourceVersion: "1", annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}}, spec: {containers: [{name: c, resources: {limits: {cpu: 1000m, memory: 1Gi}}, ports: [{containerPort: 80}]}]}, status: {phase: Running}}`))
	b := normalize(obj(t, `{apiVersion: v1, kind: Pod, metadata: {name: p, labels: {}}, spec: {containers: [{name: c, args: [], resources: {limits: {cpu: "1", memory: 1024Mi}}, ports: [{containerPort: 80.0}]}]}}`))
	assert.Empty(t, comparePaths(a.Object, b.Object))
	// A CRD's fields are not taken for quantities.
	c := normalize(obj(t, `{apiVersion: example.com/v1, kind: W, metadata: {name: w}, spec: {limits: {a: 1000m}}}`))
	d := normalize(obj(t, `{apiVersion: example.com/v1, kind: W, metadata: {name: w}, spec: {limits: {a: "1"}}}`))
	assert.Equal(t, []string{".spec.limits.a"}, comparePaths(c.Object, d.Object))
	// int-or-string.
	e := obj(t, `{spec: {ports: [{name: http, targetPort: 80}]}}`)
	f := obj(t, `{spec: {ports: [{name: http, targetPort: "80"}]}}`)
	assert.Empty(t, comparePaths(e.Object, f.Object))
}

func TestMasker(t *testing.T) {
	m1, err := newMasker(nil)
	require.NoError(t, err)
	m2, err := newMasker(nil)
	require.NoError(t, err)
	assert.Equal(t, m1.placeholder([]byte("a")), m1.placeholder([]byte("a")))
	assert.NotEqual(t, m1.placeholder([]byte("a")), m1.placeholder([]byte("b")))
	assert.NotEqual(t, m1.placeholder([]byte("a")), m2.placeholder([]byte("a")), "keys differ per plan")

	// A value of the wrong type (a map, a number) is masked too, by its JSON.
	s := obj(t, `{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {a: {nested: hunter2}, b: 1234, c: 5678}}`)
	out, err := json.Marshal(m1.object(s).Object)
	require.NoError(t, err)
	for _, v := range []string{"hunter2", "nested", "1234", "5678"} {
		assert.NotContains(t, string(out), v)
	}
	sd := m1.object(s).Object["stringData"].(map[string]any)
	assert.NotEqual(t, sd["b"], sd["c"], "different values, different placeholders")
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{".spec.replicas", "$.a[*].b", "a['x.y']", `.a[?(@.name=="w")].c`, ".a[0]", "/a/b~1c", "/x/0", "[", "..", ".a[?(@.=='')]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u := obj(t, `{a: {b: [{name: w, c: 1}, 2]}, spec: {replicas: 1}}`)
		for _, parse := range []func(string) (path, error){parseJSONPath, parsePointer} {
			p, err := parse(s)
			if err != nil {
				if p != nil {
					t.Fatalf("%q: path and error", s)
				}
				continue
			}
			p.remove(u.Object)
			u.Object = compactLists(u.Object).(map[string]any)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"a":"b"},"data":null}`))
	f.Add([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","managedFields":[]},"spec":{"template":{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1000m"}}}]}}},"status":{}}`))
	f.Add([]byte(`{"kind":"X","spec":{"limits":{"a":[1,{"b":null}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return
		}
		a := normalize(u)
		b := normalize(a)
		if p := comparePaths(a.Object, b.Object); len(p) != 0 {
			t.Fatalf("normalize is not idempotent: %v", p)
		}
		m, _ := newMasker([]byte("k"))
		_ = m.object(a)
	})
}
