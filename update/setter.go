package update

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitopskit/gitopskit/internal/redact"
)

// DefaultMarkerKey is the key of the comment marker that names a policy, Flux's
// convention: `image: app:1.0 # {"$imagepolicy": "apps:app"}`.
const DefaultMarkerKey = "$imagepolicy"

// Fields selects the kinds of fields a [Setter] may change.
type Fields uint8

// Kinds of fields.
const (
	// Markers are scalars followed by a comment marker naming a policy:
	// `# {"$imagepolicy": "<policy>"}` sets the whole reference ("name:tag"),
	// `"<policy>:tag"` the tag, `"<policy>:name"` the name and `"<policy>:digest"`
	// the digest.
	Markers Fields = 1 << iota
	// Containers are the image fields of containers, init containers and
	// ephemeral containers of Pods, of workloads' Pod templates and of CronJobs'
	// job templates, whose repository is a policy's image. The name stays as
	// written; the tag (and digest) change.
	Containers
	// KustomizeImages are the entries of a kustomization's images list whose
	// newName (or, without one, name) is a policy's image: newTag is set, and
	// digest set or removed as the policy pins digests or not.
	KustomizeImages

	// AllFields is every kind.
	AllFields = Markers | Containers | KustomizeImages
)

// Edit is one changed field.
type Edit struct {
	// File is the file's name as given to [Setter.Set]; Line its 1-based line.
	File string
	Line int
	// Policy names the policy whose image was written.
	Policy string
	// Old and New are the field's values before and after ("" for an added or
	// removed field).
	Old, New string
}

// Setter writes the images policies chose into YAML, changing only the bytes of the
// fields it sets: comments, key order, quoting, indentation and every other byte of
// the file are kept. A Setter is safe for concurrent use once built.
type Setter struct {
	// Images are the chosen images, one per policy.
	Images []Image
	// Fields selects what may change; zero means [AllFields]. A field that has a
	// marker is set only by its marker.
	Fields Fields
	// MarkerKey is the marker's JSON key; empty means [DefaultMarkerKey].
	MarkerKey string
}

// ErrSet is matched by errors from [Setter.Set]: the file is not YAML, or a field to
// change cannot be edited in place (a block scalar, a flow mapping without the key).
var ErrSet = errors.New("update: cannot set image")

// ErrNotYAML is matched, with [ErrSet], by errors from [Setter.Set] for a file that
// does not parse as YAML (a Helm template, say); [Run] skips such files.
var ErrNotYAML = errors.New("not YAML")

// Set returns data with the images written, and the edits made in document order.
// When nothing changes it returns data itself and no edits. Errors match [ErrSet]
// and name the file and line, with credentials in the values they quote hidden;
// the result is never invalid YAML.
func (s *Setter) Set(file string, data []byte) ([]byte, []Edit, error) {
	out, edits, err := s.set(file, data)
	return out, edits, redact.Secrets(nil).Wrap(err)
}

func (s *Setter) set(file string, data []byte) ([]byte, []Edit, error) {
	docs, err := decodeAll(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w: %w", ErrSet, file, ErrNotYAML, err)
	}
	w := walker{s: s, file: file, byName: map[string]Image{}, seen: map[seenKey]bool{}}
	for _, img := range s.Images {
		w.byName[img.Policy] = img
	}
	kustomization := isKustomizationFile(file)
	for _, doc := range docs {
		w.document(doc, kustomization)
	}
	if len(w.targets) == 0 {
		return data, nil, nil
	}
	out, edits, err := splice(data, w.targets)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s:%w", ErrSet, file, err)
	}
	if len(edits) == 0 {
		return data, nil, nil
	}
	if _, err := decodeAll(out); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: the edited file does not parse: %w", ErrSet, file, err)
	}
	for i := range edits {
		edits[i].File = file
	}
	return out, edits, nil
}

func (s *Setter) fields() Fields {
	if s.Fields == 0 {
		return AllFields
	}
	return s.Fields
}

func decodeAll(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func isKustomizationFile(file string) bool {
	switch path.Base(strings.ReplaceAll(file, "\\", "/")) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return true
	}
	return false
}

// walker finds the fields to set in a file's documents.
type walker struct {
	s       *Setter
	file    string
	byName  map[string]Image
	seen    map[seenKey]bool // fields already targeted (a marker wins)
	targets []target
}

// document collects the targets of one document.
func (w *walker) document(doc *yaml.Node, kustomizationFile bool) {
	fields := w.s.fields()
	if fields&Markers != 0 {
		w.markers(doc, false, 0)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	root := doc.Content[0]
	if fields&Containers != 0 {
		w.containers(root)
	}
	if fields&KustomizeImages != 0 && isKustomization(root, kustomizationFile) {
		w.kustomizeImages(root)
	}
}

// markers walks n and targets every scalar with a marker in its line comment or
// its key's. Aliases are not followed, so a document of aliases stays linear.
func (w *walker) markers(n *yaml.Node, flow bool, depth int) {
	if depth > 1000 {
		return
	}
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				w.marked(c, c.LineComment, flow)
			} else {
				w.markers(c, flow, depth+1)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode {
				comment := v.LineComment
				if comment == "" {
					comment = k.LineComment
				}
				w.marked(v, comment, flow)
			} else {
				w.markers(v, flow, depth+1)
			}
		}
	}
}

// marked targets v when comment is a marker naming a known policy.
func (w *walker) marked(v *yaml.Node, comment string, flow bool) {
	ref, ok := parseMarker(comment, w.markerKey())
	if !ok {
		return
	}
	img, part, ok := w.resolve(ref)
	if !ok {
		return
	}
	var value string
	switch part {
	case "":
		value = img.String()
	case "tag":
		value = img.TagRef()
	case "name":
		value = img.Name
	case "digest":
		if img.Digest == "" {
			return
		}
		value = img.Digest
	}
	w.add(target{node: v, policy: img.Policy, value: value, flow: flow})
}

func (w *walker) markerKey() string {
	if w.s.MarkerKey != "" {
		return w.s.MarkerKey
	}
	return DefaultMarkerKey
}

// resolve finds the policy a marker names: "<policy>" or "<policy>:<part>".
func (w *walker) resolve(ref string) (Image, string, bool) {
	if img, ok := w.byName[ref]; ok {
		return img, "", true
	}
	i := strings.LastIndexByte(ref, ':')
	if i < 0 {
		return Image{}, "", false
	}
	part := ref[i+1:]
	if part != "tag" && part != "name" && part != "digest" {
		return Image{}, "", false
	}
	img, ok := w.byName[ref[:i]]
	return img, part, ok
}

// parseMarker reads `# {"<key>": "<ref>"}`.
func parseMarker(comment, key string) (string, bool) {
	c := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(comment), "#"))
	if !strings.HasPrefix(c, "{") || !strings.Contains(c, key) {
		return "", false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(c), &m); err != nil {
		return "", false
	}
	var ref string
	if err := json.Unmarshal(m[key], &ref); err != nil || ref == "" {
		return "", false
	}
	return ref, true
}

type seenKey struct {
	node   *yaml.Node
	insert string
}

// add records t unless its field is already targeted.
func (w *walker) add(t target) {
	k := seenKey{t.node, t.insert}
	if w.seen[k] {
		return
	}
	w.seen[k] = true
	w.targets = append(w.targets, t)
}
