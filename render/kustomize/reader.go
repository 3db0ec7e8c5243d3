package kustomize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/yamlcheck"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

const (
	// originAnnotation is where kustomize records the file a resource came from when
	// a kustomization's buildMetadata lists originAnnotations.
	originAnnotation = "config.kubernetes.io/origin"
	// originField is the top-level field the renderer adds to every document of a
	// resource file, naming the file, and removes from the output. Kustomize carries
	// unknown top-level fields through its transformers untouched, and unlike an
	// annotation (which kustomize's name-reference pass parses again and again) a
	// trailing field costs nothing: asking kustomize for its origin annotations
	// makes a 2,000-resource build about 10% slower.
	originField = "gitopskit.io/origin"
	// generatorAnnotation is the annotation the renderer adds, through the
	// generator's options, to the objects a configMapGenerator or secretGenerator
	// makes, naming its kustomization. It is not part of a generated name's hash.
	generatorAnnotation = "gitopskit.io/generated-by"
)

// reader sees every file kustomize reads during one build. It counts bytes against
// the limit, refuses kustomizations with remote references unless they are
// allowed, and marks the documents of resource files and the objects of generators
// with their origin.
type reader struct {
	opts     Options
	top      string // absolute directory of the top kustomization
	maxBytes int64

	bytes      int64
	keepOrigin bool            // the top kustomization asked for origin annotations itself
	resources  map[string]bool // files listed as resources by the kustomizations read so far
	others     map[string]bool // files referred to in any other way (patches, generator sources, …)
	schemas    []string        // the custom OpenAPI schemas of the kustomizations read so far
	warnings   []string        // kustomize's deprecation warnings, each naming its kustomization
	stderr     *capture.Stderr // where kustomize prints those warnings
	err        error           // the first refusal, which kustomize may wrap beyond errors.Is
}

func (rd *reader) read(name string, data []byte) ([]byte, error) {
	rd.bytes += int64(len(data))
	if rd.bytes > rd.maxBytes {
		return nil, rd.fail(fmt.Errorf("%s: %w: read more than %d bytes", name, render.ErrLimit, rd.maxBytes))
	}
	if !slices.Contains(render.KustomizationFiles, path.Base(name)) {
		// A file that is also a patch or a generator's source is left as it is:
		// its content must reach kustomize unchanged.
		if rd.resources[name] && !rd.others[name] {
			out, err := tagOrigin(data, trimRoot(name))
			if err != nil {
				return nil, rd.fail(&object.DecodeError{Origin: object.Origin{File: name, Line: err.Line}, Err: fmt.Errorf("%w: %s", object.ErrInvalid, err.Msg)})
			}
			return out, nil
		}
		return data, nil
	}
	var k types.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return data, nil // kustomize reports it, with its own words
	}
	resources, others := references(&k)
	if !rd.opts.AllowRemote {
		if ref := firstRemote(resources, others); ref != "" {
			return nil, rd.fail(fmt.Errorf("%s: %w: %s", name, render.ErrRemote, ref))
		}
	}
	if msgs := k.CheckDeprecatedFields(); msgs != nil && len(*msgs) > 0 {
		// kustomize prints them to os.Stderr once it has read the file.
		rd.stderr.Start()
		for _, msg := range *msgs {
			if w := trimRoot(name) + ": " + strings.TrimPrefix(msg, "# Warning: "); !slices.Contains(rd.warnings, w) {
				rd.warnings = append(rd.warnings, w)
			}
		}
	}
	dir := path.Dir(name)
	if p := k.OpenAPI["path"]; p != "" {
		rd.schemas = append(rd.schemas, trimRoot(path.Join(dir, p)))
	}
	if ref := firstOutside(dir, resources, others); ref != "" {
		return nil, rd.fail(fmt.Errorf("%s: %w: %s", name, render.ErrOutsideRoot, ref))
	}
	rd.resources = addPaths(rd.resources, dir, resources)
	rd.others = addPaths(rd.others, dir, others)
	if dir == rd.top && slices.Contains(k.BuildMetadata, types.OriginAnnotations) {
		rd.keepOrigin = true
	}
	if len(k.ConfigMapGenerator)+len(k.SecretGenerator) > 0 {
		return withGeneratorOrigin(data, trimRoot(name)), nil
	}
	return data, nil
}

func (rd *reader) fail(err error) error {
	if rd.err == nil {
		rd.err = err
	}
	return err
}

// addPaths adds the local references refs of the kustomization in dir to set.
func addPaths(set map[string]bool, dir string, refs []string) map[string]bool {
	if set == nil {
		set = map[string]bool{}
	}
	for _, r := range refs {
		if r != "" && !isRemote(r) {
			set[path.Join(dir, r)] = true
		}
	}
	return set
}

// tagOrigin adds originField, set to origin, to every document of a resource file
// (and to every item of a List). It returns data unchanged when data is not a
// stream of YAML or JSON objects: kustomize then reports the error in its own
// words. It refuses, naming the line, what kustomize would refuse without naming
// the file or would silently change (see checkDocument).
//
// A document whose root is a block mapping at the first column gets the field as
// a line of text after its last line, which leaves every other byte as written.
// Other documents (JSON, flow mappings, Lists) are marked in the node tree and the
// file is encoded again; as encoding is not always faithful (a flow mapping's
// empty value becomes ”), that file is checked to say exactly what data says
// with the field removed, and left unmarked otherwise.
func tagOrigin(data []byte, origin string) ([]byte, *yamlcheck.Error) {
	dec := kyaml.NewDecoder(bytes.NewReader(data))
	var (
		docs  []*kyaml.Node
		lines []int // the line after which each document's field is inserted
		text  = true
	)
	for {
		var doc kyaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || len(doc.Content) != 1 {
			return data, nil
		}
		root := doc.Content[0]
		if root.Kind == kyaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document, which kustomize skips too
		}
		if root.Kind != kyaml.MappingNode || field(root, originField) != nil {
			return data, nil
		}
		if err := checkDocument(root); err != nil {
			return nil, err
		}
		tagNode(root, origin)
		list := false
		if kind := field(root, "kind"); kind != nil && strings.HasSuffix(kind.Value, "List") {
			if items := field(root, "items"); items != nil && items.Kind == kyaml.SequenceNode {
				list = true
				for _, it := range items.Content {
					if it.Kind == kyaml.MappingNode && field(it, originField) == nil {
						tagNode(it, origin)
					}
				}
			}
		}
		text = text && !list && root.Style&kyaml.FlowStyle == 0 && root.Column == 1
		docs = append(docs, &doc)
		lines = append(lines, root.Line)
	}
	// Without a line break at the end, the last line may be part of a block
	// scalar that keeps its line breaks: a line after it would add one.
	if text && bytes.HasSuffix(data, []byte("\n")) {
		return insertField(data, lines, originField+": "+strconv.Quote(origin)), nil
	}
	var out bytes.Buffer
	enc := kyaml.NewEncoder(&out)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return data, nil
		}
	}
	if err := enc.Close(); err != nil {
		return data, nil
	}
	want, err := untagged(data)
	if err != nil {
		return data, nil
	}
	if got, err := untagged(out.Bytes()); err != nil || !reflect.DeepEqual(got, want) {
		return data, nil
	}
	return out.Bytes(), nil
}

// checkDocument refuses, in a resource document, two keys with the same text
// (kyaml refuses them later without naming the file), integers beyond int64
// (kyaml makes them floats, which the API server stores as another number) and
// identity fields that YAML 1.1 reads as something else than a string (kyaml
// reads `name: y` as "y", kubectl and the other renderers as true).
func checkDocument(root *kyaml.Node) *yamlcheck.Error {
	err := yamlcheck.Check(root, yamlcheck.Options{})
	if err == nil {
		err = yamlcheck.Identity(root, 1)
	}
	var ce *yamlcheck.Error
	errors.As(err, &ce)
	return ce
}

// insertField adds the line field at the end of each document of data whose root
// mapping starts on one of the 1-based lines roots (ascending): before the first
// document marker ("---" or "...", which YAML allows nowhere inside a document)
// after that line, or at the end of data, which ends with a line break.
func insertField(data []byte, roots []int, field string) []byte {
	out := make([]byte, 0, len(data)+len(roots)*(len(field)+2))
	line, next := 1, 0
	open := false // a document to mark has started and not ended
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n') + 1
		if end == 0 {
			end = len(data)
		}
		l := data[:end]
		if open && isDocumentMarker(l) {
			out = append(out, field...)
			out = append(out, '\n')
			open = false
		}
		if next < len(roots) && roots[next] == line {
			open, next = true, next+1
		}
		out = append(out, l...)
		data = data[end:]
		line++
	}
	if open {
		out = append(out, field...)
		out = append(out, '\n')
	}
	return out
}

// isDocumentMarker reports whether line starts or ends a YAML document.
func isDocumentMarker(line []byte) bool {
	for _, m := range [][]byte{[]byte("---"), []byte("...")} {
		if rest, ok := bytes.CutPrefix(line, m); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r') {
			return true
		}
	}
	return false
}

// untagged decodes the non-empty documents of data, without originField.
func untagged(data []byte) ([]any, error) {
	dec := kyaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		for _, it := range untag(v) {
			untag(it)
		}
		out = append(out, v)
	}
}

// untag removes originField from v when v is a mapping, and returns its items.
func untag(v any) []any {
	var items any
	switch m := v.(type) {
	case map[string]any:
		delete(m, originField)
		items = m["items"]
	case map[any]any:
		delete(m, originField)
		items = m["items"]
	}
	l, _ := items.([]any)
	return l
}

// tagNode appends originField to the mapping m, unless m has it already.
func tagNode(m *kyaml.Node, origin string) {
	if field(m, originField) != nil {
		return
	}
	m.Content = append(m.Content,
		&kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: originField},
		&kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: origin})
}

// field returns the value of key in the mapping m, or nil.
func field(m *kyaml.Node, key string) *kyaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// withGeneratorOrigin adds generatorAnnotation, set to the kustomization's path,
// to the options of each of its configMapGenerator and secretGenerator entries,
// returning data unchanged when it cannot.
func withGeneratorOrigin(data []byte, kustomization string) []byte {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil || doc == nil {
		return data
	}
	for _, key := range []string{"configMapGenerator", "secretGenerator"} {
		gens, _ := doc[key].([]any)
		for _, g := range gens {
			gen, ok := g.(map[string]any)
			if !ok {
				return data
			}
			opts, _ := gen["options"].(map[string]any)
			if opts == nil {
				opts = map[string]any{}
			}
			ann, _ := opts["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
			}
			ann[generatorAnnotation] = kustomization
			opts["annotations"] = ann
			gen["options"] = opts
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return data
	}
	return out
}

// references returns what k lists as resources (files or kustomization
// directories) and everything else it refers to by path or URL.
func references(k *types.Kustomization) (resources, others []string) {
	resources = slices.Clone(k.Resources)
	//lint:ignore SA1019 deprecated, still read by kustomize
	others = append(others, k.Bases...)
	others = append(others, k.Components...)
	others = append(others, k.Crds...)
	others = append(others, k.Configurations...)
	others = append(others, k.Generators...)
	others = append(others, k.Transformers...)
	others = append(others, k.Validators...)
	//lint:ignore SA1019 deprecated, still read by kustomize
	for _, p := range k.PatchesStrategicMerge {
		others = append(others, string(p))
	}
	for _, p := range k.Patches {
		others = append(others, p.Path)
	}
	//lint:ignore SA1019 deprecated, still read by kustomize
	for _, p := range k.PatchesJson6902 {
		others = append(others, p.Path)
	}
	for _, r := range k.Replacements {
		others = append(others, r.Path)
	}
	others = append(others, k.OpenAPI["path"])
	gens := make([]types.GeneratorArgs, 0, len(k.ConfigMapGenerator)+len(k.SecretGenerator))
	for _, g := range k.ConfigMapGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range gens {
		for _, f := range g.FileSources {
			_, p, _ := strings.Cut(f, "=")
			if p == "" {
				p = f
			}
			others = append(others, p)
		}
		others = append(others, g.EnvSources...)
		others = append(others, g.EnvSource) // deprecated, still read by kustomize
	}
	charts, globals := types.SplitHelmParameters(k.HelmChartInflationGenerator)
	for _, h := range append(slices.Clone(k.HelmCharts), charts...) {
		others = append(others, h.Repo, h.ValuesFile)
		others = append(others, h.AdditionalValuesFiles...)
	}
	others = append(others, globals.ChartHome)
	if k.HelmGlobals != nil {
		others = append(others, k.HelmGlobals.ChartHome)
	}
	return resources, others
}

// firstRemote returns the first of the references that kustomize would fetch from
// the network, or "".
func firstRemote(lists ...[]string) string {
	for _, refs := range lists {
		for _, r := range refs {
			if isRemote(r) {
				return r
			}
		}
	}
	return ""
}

// firstOutside returns the first of the local references of the kustomization in
// dir (absolute, "/" being the artifact root) that leaves the artifact: an
// absolute path, or one with more ".." than dir is deep. kustomize would resolve
// them in the file system around the artifact; the artifact's file system would
// resolve them inside it ("/../app" is "/app"), so they are refused before either
// can.
func firstOutside(dir string, lists ...[]string) string {
	for _, refs := range lists {
		for _, r := range refs {
			if r == "" || isRemote(r) || strings.Contains(r, "\n") {
				continue
			}
			if p := path.Join(dir[1:], r); path.IsAbs(r) || p == ".." || strings.HasPrefix(p, "../") {
				return r
			}
		}
	}
	return ""
}

// scpUser matches the "user@" that starts an SCP-style Git URL.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize would treat ref as a remote location: a URL
// with a scheme, an SCP-style Git URL, or a github.com path. Multi-line values are
// inline content, never locations.
func isRemote(ref string) bool {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.Contains(ref, "\n") {
		return false
	}
	l := strings.ToLower(ref)
	return strings.Contains(l, "://") ||
		strings.HasPrefix(l, "git::") ||
		strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:") ||
		scpUser.MatchString(ref)
}
