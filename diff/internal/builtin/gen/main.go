// Command gen writes the built-in kinds' schemas for the offline diff engine.
//
// It reads the OpenAPI v3 documents that the k8s.io/kubernetes module of the
// Kubernetes version matching go.mod's k8s.io/api ships under api/openapi-spec/v3
// (fetched through the Go module proxy), converts their schemas to
// structured-merge-diff types with kube-openapi's schemaconv, as the API server
// does, and writes them with the kinds and their scopes, compressed:
//
//	go run ./gen -out .
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/schemaconv"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"

	"github.com/gitopskit/gitopskit/diff/internal/builtin"
)

func main() {
	out := flag.String("out", ".", "directory to write schemas.json.gz and kinds.json.gz to")
	version := flag.String("version", "", "Kubernetes version (default: the one of go.mod's k8s.io/api)")
	docs := flag.String("docs", "", "directory of OpenAPI v3 documents (default: the k8s.io/kubernetes module's api/openapi-spec/v3)")
	flag.Parse()
	if err := run(*out, *version, *docs); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, version, docs string) error {
	var err error
	if version == "" {
		if version, err = KubernetesVersion(); err != nil {
			return err
		}
	}
	if docs == "" {
		if docs, err = DocsDir(version); err != nil {
			return err
		}
	}
	in, err := ReadDocs(docs)
	if err != nil {
		return err
	}
	s, err := Generate(in, version)
	if err != nil {
		return err
	}
	b, err := builtin.EncodeTypes(s.KubernetesVersion, s.Types)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "schemas.json.gz"), b, 0o644); err != nil {
		return err
	}
	if b, err = builtin.EncodeIndex(s.Index); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "kinds.json.gz"), b, 0o644)
}

// Output is what Generate produces.
type Output struct {
	KubernetesVersion string
	Types             []smdschema.TypeDef
	Index             *builtin.Index
}

// KubernetesVersion returns the Kubernetes version matching the k8s.io/api module
// the build uses: v0.X.Y is Kubernetes v1.X.Y.
func KubernetesVersion() (string, error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/api").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m k8s.io/api: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if !strings.HasPrefix(v, "v0.") {
		return "", fmt.Errorf("k8s.io/api version %q is not v0.X.Y", v)
	}
	return "v1." + strings.TrimPrefix(v, "v0."), nil
}

// DocsDir downloads the k8s.io/kubernetes module of version through the Go module
// proxy (a no-op when it is in the module cache) and returns its OpenAPI v3
// directory.
func DocsDir(version string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+version)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@%s: %w: %s%s", version, err, stderr.String(), stdout.String())
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@%s: no directory in %q", version, stdout.String())
	}
	return filepath.Join(m.Dir, "api", "openapi-spec", "v3"), nil
}

// groupVersionDoc matches the documents of one group-version: api__v1_openapi.json
// and apis__<group>__<version>_openapi.json.
var groupVersionDoc = regexp.MustCompile(`^(api__v1|apis__[^_]+__[^_]+)_openapi\.json$`)

// ReadDocs reads the group-version documents in dir, keyed by group-version
// ("v1", "apps/v1").
func ReadDocs(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	docs := map[string][]byte{}
	for _, e := range entries {
		m := groupVersionDoc.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		gv := strings.TrimPrefix(strings.ReplaceAll(m[1], "__", "/"), "apis/")
		docs[strings.TrimPrefix(gv, "api/")] = b
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no group-version documents", dir)
	}
	return docs, nil
}

// Generate converts OpenAPI v3 documents, keyed by group-version, to the
// built-in schemas of version.
func Generate(docs map[string][]byte, version string) (*Output, error) {
	models := map[string]*spec.Schema{}
	kinds := map[schema.GroupVersionKind]builtin.Kind{}
	gvs := make([]string, 0, len(docs))
	for gv := range docs {
		gvs = append(gvs, gv)
	}
	sort.Strings(gvs)
	for _, gv := range gvs {
		var doc spec3.OpenAPI
		if err := json.Unmarshal(docs[gv], &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", gv, err)
		}
		if doc.Components == nil {
			return nil, fmt.Errorf("%s: no components", gv)
		}
		scopes := builtin.Scopes(&doc)
		for name, s := range doc.Components.Schemas {
			if _, ok := models[name]; !ok {
				models[name] = s
			}
			for _, gvk := range builtin.GVKs(s.Extensions["x-kubernetes-group-version-kind"]) {
				k := builtin.Kind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Type: name, Scope: scopes[gvk]}
				prev, seen := kinds[gvk]
				switch {
				case !seen, prev.Scope == "" && k.Scope != "" && prev.Type == k.Type:
					kinds[gvk] = k
				case prev.Type != k.Type:
					return nil, fmt.Errorf("%s: %s is %s and %s", gv, gvk, prev.Type, k.Type)
				}
			}
		}
	}
	smd, err := schemaconv.ToSchemaFromOpenAPI(models, false)
	if err != nil {
		return nil, fmt.Errorf("convert schemas: %w", err)
	}
	ix := &builtin.Index{KubernetesVersion: version}
	for _, k := range kinds {
		ix.Kinds = append(ix.Kinds, k)
	}
	sort.Slice(ix.Kinds, func(i, j int) bool {
		a, b := ix.Kinds[i], ix.Kinds[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	if ix.Fields, err = roundTrip(ix.Kinds); err != nil {
		return nil, err
	}
	out := &Output{KubernetesVersion: version, Types: smd.Types, Index: ix}
	sort.Slice(out.Types, func(i, j int) bool { return out.Types[i].Name < out.Types[j].Name })
	names := map[string]bool{}
	for _, t := range out.Types {
		sortFields(t.Atom)
		names[t.Name] = true
	}
	for name := range ix.Fields {
		if !names[name] {
			return nil, fmt.Errorf("type %s of the Go types has no schema in the documents", name)
		}
	}
	return out, nil
}

// sortFields orders the fields of a and of the types inlined in it by name:
// schemaconv lists them in map order.
func sortFields(a smdschema.Atom) {
	if a.List != nil {
		sortFields(a.List.ElementType.Inlined)
	}
	if a.Map == nil {
		return
	}
	sortFields(a.Map.ElementType.Inlined)
	sort.Slice(a.Map.Fields, func(i, j int) bool { return a.Map.Fields[i].Name < a.Map.Fields[j].Name })
	for _, f := range a.Map.Fields {
		sortFields(f.Type.Inlined)
	}
}
