package fleet

import (
	"fmt"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gitopskit/gitopskit/reconcile"
	"github.com/gitopskit/gitopskit/render"
)

// Spec says which clusters a set goes to and how it changes per cluster, as
// Rancher Fleet's targets and targetCustomizations do.
type Spec struct {
	// Targets select the clusters: a cluster whose labels match any of them is a
	// target. An empty selector matches every cluster; no Targets, none.
	Targets []metav1.LabelSelector
	// Customizations change the set for the clusters they select: the first one
	// whose ClusterSelector matches a target applies to it, the others do not.
	Customizations []Customization
}

// Customization is how a set changes for the clusters it selects.
type Customization struct {
	// Name identifies the customization in results and errors.
	Name string
	// ClusterSelector selects the clusters it applies to; nil selects none.
	ClusterSelector *metav1.LabelSelector
	// Path, when set, is the directory rendered instead of the set's (a kustomize
	// overlay of it, for instance), relative to the artifact's root.
	Path string
	// Namespace, when set, is given to namespaced objects without one, and is the
	// Helm release's namespace.
	Namespace string
	// Vars are substituted for ${NAME} references (render.Transform.Vars), over the
	// set's own.
	Vars map[string]string
	// Values are Helm values merged over the set's inline values, key by key.
	Values map[string]any
}

// Target is one cluster a set goes to, and the customization that applies there.
type Target struct {
	Cluster Cluster
	// Customization is the first of Spec.Customizations that selects the
	// cluster; the zero Customization when none does.
	Customization Customization
}

// Select returns the clusters of clusters that s targets, in the order given,
// each with its customization. A selector that is not valid is an error naming it.
func (s Spec) Select(clusters []Cluster) ([]Target, error) {
	targets, err := selectors(s.Targets)
	if err != nil {
		return nil, err
	}
	custom := make([]labels.Selector, len(s.Customizations))
	for i, c := range s.Customizations {
		if c.ClusterSelector == nil {
			custom[i] = labels.Nothing()
			continue
		}
		if custom[i], err = metav1.LabelSelectorAsSelector(c.ClusterSelector); err != nil {
			return nil, fmt.Errorf("customization %s: clusterSelector: %w", c.Name, err)
		}
	}
	var out []Target
	for _, c := range clusters {
		set := labels.Set(c.Labels)
		if !matchesAny(targets, set) {
			continue
		}
		t := Target{Cluster: c}
		for i, sel := range custom {
			if sel.Matches(set) {
				t.Customization = s.Customizations[i]
				break
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func selectors(ls []metav1.LabelSelector) ([]labels.Selector, error) {
	out := make([]labels.Selector, len(ls))
	for i := range ls {
		var err error
		if out[i], err = metav1.LabelSelectorAsSelector(&ls[i]); err != nil {
			return nil, fmt.Errorf("target %d: %w", i, err)
		}
	}
	return out, nil
}

func matchesAny(sels []labels.Selector, set labels.Set) bool {
	for _, s := range sels {
		if s.Matches(set) {
			return true
		}
	}
	return false
}

// Options returns base with the target's customization applied: its Path, its
// Namespace (for the objects, the cluster options and the Helm release), its Vars
// and its Helm values. base is not changed.
func (t Target) Options(base reconcile.Options) reconcile.Options {
	opts := base
	c := t.Customization
	if c.Path != "" {
		opts.Path = c.Path
	}
	if c.Namespace != "" {
		opts.Cluster.Namespace = c.Namespace
		opts.Render.Helm.Namespace = c.Namespace
	}
	if len(c.Values) > 0 {
		opts.Render.Helm.Values = mergeValues(base.Render.Helm.Values, c.Values)
	}
	if len(c.Vars) > 0 {
		opts.Transforms = append([]reconcile.Transformer{reconcile.RenderTransform(render.Transform{Vars: c.Vars})}, base.Transforms...)
	}
	return opts
}

// mergeValues returns over merged into a copy of base, maps key by key, as Helm
// merges values.
func mergeValues(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bm, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// RunnerFunc builds the reconciler of a set for one target, typically
// reconcile.NewForConfig(t.Cluster.Config, stages, t.Options(base)).
type RunnerFunc func(t Target) (reconcile.Runner, error)

// NewGroup returns a group that reconciles the set into every target, one set per
// target named after its cluster, at most opts.Concurrency at once; with
// opts.Timeout, a cluster that is down or slow holds back only its own result.
func NewGroup(targets []Target, newRunner RunnerFunc, opts reconcile.GroupOptions) (*reconcile.Group, error) {
	sets := make([]reconcile.Set, len(targets))
	for i, t := range targets {
		r, err := newRunner(t)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", t.Cluster.Name, err)
		}
		sets[i] = reconcile.Set{Name: t.Cluster.Name, Runner: r}
	}
	return reconcile.NewGroup(sets, opts)
}
