package update

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// podSpecPaths are where workloads keep a Pod spec, by kind; kinds not listed
// (custom resources) are looked up at spec.template.spec.
var podSpecPaths = map[string][]string{
	"Pod":         {"spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
	"PodTemplate": {"template", "spec"},
}

var containerLists = []string{"initContainers", "containers", "ephemeralContainers"}

// containers targets the image fields of a workload's containers whose repository
// is a policy's image.
func (w *walker) containers(root *yaml.Node) {
	kind := scalar(lookup(root, "kind"))
	if kind == "" {
		return
	}
	p, ok := podSpecPaths[kind]
	if !ok {
		p = []string{"spec", "template", "spec"}
	}
	spec := lookup(root, p...)
	if spec == nil || spec.Kind != yaml.MappingNode {
		return
	}
	for _, list := range containerLists {
		seq := lookup(spec, list)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		flow := seq.Style&yaml.FlowStyle != 0
		for _, c := range seq.Content {
			if c.Kind != yaml.MappingNode {
				continue
			}
			v := lookup(c, "image")
			if v == nil || v.Kind != yaml.ScalarNode {
				continue
			}
			ref := splitReference(v.Value)
			for _, img := range w.s.Images {
				if sameRepository(ref.name, img.Name) {
					next := reference{name: ref.name, tag: img.Tag, digest: img.Digest}
					w.add(target{node: v, policy: img.Policy, value: next.String(), flow: flow || c.Style&yaml.FlowStyle != 0})
					break
				}
			}
		}
	}
}

// isKustomization reports whether a document is a kustomization: it is in a file
// named like one, or declares kind Kustomization of kustomize.config.k8s.io.
func isKustomization(root *yaml.Node, kustomizationFile bool) bool {
	kind, api := scalar(lookup(root, "kind")), scalar(lookup(root, "apiVersion"))
	if kind == "Kustomization" && strings.HasPrefix(api, "kustomize.config.k8s.io/") {
		return true
	}
	return kustomizationFile && (kind == "" || kind == "Kustomization" && api == "")
}

// kustomizeImages targets the images entries naming a policy's image.
func (w *walker) kustomizeImages(root *yaml.Node) {
	seq := lookup(root, "images")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	for _, e := range seq.Content {
		if e.Kind != yaml.MappingNode {
			continue
		}
		name := scalar(lookup(e, "newName"))
		if name == "" {
			name = scalar(lookup(e, "name"))
		}
		if name == "" {
			continue
		}
		for _, img := range w.s.Images {
			if sameRepository(name, img.Name) {
				w.kustomizeEntry(e, img)
				break
			}
		}
	}
}

func (w *walker) kustomizeEntry(e *yaml.Node, img Image) {
	flow := e.Style&yaml.FlowStyle != 0
	set := func(key, value string) {
		if v := lookup(e, key); v != nil {
			if v.Kind == yaml.ScalarNode {
				w.add(target{node: v, policy: img.Policy, value: value, flow: flow})
			}
			return
		}
		w.add(target{node: e, policy: img.Policy, value: value, flow: flow, insert: key})
	}
	set("newTag", img.Tag)
	if img.Digest != "" {
		set("digest", img.Digest)
		return
	}
	// A digest left from an earlier pin would override the new tag.
	for i := 0; i+1 < len(e.Content); i += 2 {
		if e.Content[i].Value == "digest" && e.Content[i+1].Kind == yaml.ScalarNode {
			w.add(target{node: e.Content[i+1], key: e.Content[i], policy: img.Policy, flow: flow, remove: true})
		}
	}
}

// lookup follows keys through nested mappings; nil when a key is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
