package helm

import (
	"fmt"
	"log"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render/helm/internal/kindorder"
)

// decoded is a document decoded ahead of the renderer's limit checks; ok
// when it decoded without error.
type decoded struct {
	manifests []object.Manifest
	ok        bool
}

// manifest is one document of the templates' output, a manifest or a hook in
// Helm's terms.
type manifest struct {
	path, content string
	kind          string
	test          bool // a test hook
	decoded       decoded
}

// byKindName orders kinds as Helm 3 installs them (releaseutil.InstallOrder).
var byKindName = kindorder.Compare(releaseutil.InstallOrder)

// hookEvents are the hook events Helm knows (releaseutil's list), by
// annotation value; the test hooks are the ones that matter here.
var hookEvents = map[string]bool{
	string(release.HookPreInstall): false, string(release.HookPostInstall): false,
	string(release.HookPreDelete): false, string(release.HookPostDelete): false,
	string(release.HookPreUpgrade): false, string(release.HookPostUpgrade): false,
	string(release.HookPreRollback): false, string(release.HookPostRollback): false,
	string(release.HookTest): true, "test-success": true,
}

// sortManifests splits the rendered templates into documents and sorts them
// into manifests and hooks in Helm's install order, as
// releaseutil.SortManifests does (same documents, same order, same errors,
// unknown hooks left out with the same log line) without ranking kinds through
// a map built at each comparison. Helm reads the kind, name and annotations of
// each document by parsing all of it; with dec, each document is decoded with
// dec instead, on all processors, and that one reading gives its kind when it
// is certain to be what Helm reads (one object, not a hook, nothing a List
// or a YAML escape or tag could hide): only the others are parsed as Helm does.
func sortManifests(files map[string]string, dec *object.Decoder) (manifests, hooks []manifest, err error) {
	var names []string
	for name, content := range files {
		// Partials and empty files are left out.
		if !strings.HasPrefix(path.Base(name), "_") && strings.TrimSpace(content) != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	type doc struct {
		content string
		decoded decoded
		head    *releaseutil.SimpleHead // nil when decoded says all
		kind    string
		err     error
	}
	docs := make([][]doc, len(names))
	parallel.Split(len(names), 1, func(i int) {
		entries := splitManifests(files[names[i]])
		docs[i] = make([]doc, len(entries))
		for j, content := range entries {
			d := &docs[i][j]
			d.content = content
			if dec != nil {
				// As the renderer reads a manifest: Output's content, which
				// ends in a newline (a block scalar at the end keeps its own).
				ms, err := dec.Decode(strings.NewReader(d.content+"\n"), names[i])
				d.decoded = decoded{manifests: ms, ok: err == nil}
				if kind, ok := plainKind(d.content, d.decoded); ok {
					d.kind = kind
					continue
				}
			}
			var head releaseutil.SimpleHead
			if err := yaml.Unmarshal([]byte(d.content), &head); err != nil {
				d.err = fmt.Errorf("YAML parse error on %s: %w", names[i], err)
				continue
			}
			d.head, d.kind = &head, head.Kind
		}
	})
	for i, name := range names {
		for _, d := range docs[i] {
			if d.err != nil {
				return nil, nil, d.err
			}
			m := manifest{path: name, content: d.content, kind: d.kind, decoded: d.decoded}
			if d.head == nil || d.head.Metadata == nil || len(d.head.Metadata.Annotations) == 0 {
				manifests = append(manifests, m)
				continue
			}
			events, isHook := d.head.Metadata.Annotations[release.HookAnnotation]
			if !isHook {
				manifests = append(manifests, m)
				continue
			}
			unknown := false
			for _, ev := range strings.Split(events, ",") {
				test, known := hookEvents[strings.ToLower(strings.TrimSpace(ev))]
				unknown = unknown || !known
				m.test = m.test || test
			}
			if unknown {
				log.Printf("info: skipping unknown hook: %q", events)
				continue
			}
			// A hook's content has no newline at the end: the renderer reads it
			// again.
			m.decoded = decoded{}
			hooks = append(hooks, m)
		}
	}
	slices.SortStableFunc(manifests, byKind)
	slices.SortStableFunc(hooks, byKind)
	return manifests, hooks, nil
}

// byKind orders manifests as Helm's install order.
func byKind(a, b manifest) int { return byKindName(a.kind, b.kind) }

// plainKind returns the kind of the document content from its decoding d when
// that is certainly the kind, name and annotations Helm's head parse reads:
// one object, not the item of a List (no "List" in the text, nor an escape or a
// tag that could spell it), not a hook (whose annotation Helm reads as it was
// written), and no keys Helm's case-insensitive JSON decoding would also take
// for kind or metadata. Other annotations do not matter: a value Helm's head
// parse refuses (a map, a list) fails the decoding too.
func plainKind(content string, d decoded) (string, bool) {
	if !d.ok || len(d.manifests) != 1 || strings.Contains(content, "List") || strings.ContainsAny(content, `\!`) {
		return "", false
	}
	obj := d.manifests[0].Object.Object
	meta, _ := obj["metadata"].(map[string]any)
	if annotations, _ := meta["annotations"].(map[string]any); annotations[release.HookAnnotation] != nil || foldedKey(obj, "apiVersion", "kind", "metadata") || foldedKey(meta, "name", "annotations") {
		return "", false
	}
	return d.manifests[0].Object.GetKind(), true
}

// foldedKey reports whether m has a key equal to one of names under case
// folding but not exactly.
func foldedKey(m map[string]any, names ...string) bool {
	for k := range m {
		for _, n := range names {
			if k != n && strings.EqualFold(k, n) {
				return true
			}
		}
	}
	return false
}

// splitManifests splits a template's output into YAML documents exactly as
// releaseutil.SplitManifests does with its regular expression
// `(?:^|\s*\n)---\s*`, in order, without the regular expression's cost (a
// fifth of the time of decoding the documents): a separator is "---" at the
// start or right after a newline that the previous separator did not take,
// with the blanks around it; the documents between are trimmed, and empty ones
// dropped.
func splitManifests(content string) []string {
	s := strings.TrimSpace(content)
	var docs []string
	add := func(d string) {
		if d != "" {
			docs = append(docs, strings.TrimSpace(d))
		}
	}
	begin, pos := 0, 0 // the current document's start; where to look for the next separator
	if strings.HasPrefix(s, "---") {
		begin = skipBlanks(s, 3)
		pos = begin
	}
	for {
		k := strings.Index(s[pos:], "\n---")
		if k < 0 {
			break
		}
		nl := pos + k
		start := nl
		for start > pos && isBlank(s[start-1]) {
			start--
		}
		add(s[begin:start])
		begin = skipBlanks(s, nl+4)
		pos = begin
	}
	add(s[begin:])
	return docs
}

// isBlank reports whether c is white space as \s matches it in Go's regular
// expressions.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}
