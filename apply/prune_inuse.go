package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
)

// A Namespace or a CustomResourceDefinition that leaves the set takes objects with
// it when it is deleted: everything in the namespace, every custom resource of the
// definition. Before pruning one, the prune lists what it still holds and keeps it
// while anything there is not going away in the same pass, as cli-utils keeps a
// namespace its set still uses; here "uses" covers every object, not only the set's.

var (
	namespaceKind = schema.GroupKind{Kind: "Namespace"}
	crdKind       = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
)

// everyNamespace names the objects the control plane creates in every namespace
// (Namespace left empty): they hold nothing of the user's, and come back anyway.
var everyNamespace = []object.ID{
	{Kind: "ServiceAccount", Name: "default"},
	{Kind: "ConfigMap", Name: "kube-root-ca.crt"},
}

// resident is an object found in a namespace, or of a kind, about to be pruned.
type resident struct {
	id       object.ID
	uid      types.UID
	owners   []types.UID
	deleting bool
}

// going records what this pass deleted (or, in a dry run, would delete) and what
// was being deleted already: objects whose owners are all going go with them.
type going struct {
	mu   sync.Mutex
	uids map[types.UID]bool
	ids  object.Set
}

// goingWith records live as deleted in this pass.
func (r *run) goingWith(live *unstructured.Unstructured) {
	g := &r.going
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.uids == nil {
		g.uids, g.ids = map[types.UID]bool{}, object.NewSet()
	}
	g.uids[live.GetUID()] = true
	g.ids.Add(object.IDOf(live))
}

// inUse returns why live, a Namespace or CustomResourceDefinition about to be
// pruned, must be kept, or "" (always for other kinds).
func (r *run) inUse(ctx context.Context, id object.ID, live *unstructured.Unstructured) string {
	var (
		held       []object.ID
		err        error
		what, noun string
	)
	switch id.GroupKind() {
	case namespaceKind:
		held, err = r.namespaceHolders(ctx, id.Name)
		what, noun = "the namespace still holds %s that %s not pruned with it: %s", "object"
	case crdKind:
		held, err = r.definitionHolders(ctx, live)
		what, noun = "%s of it %s not pruned with it, and deleting the definition would delete them: %s", "custom resource"
	default:
		return ""
	}
	if err != nil {
		return fmt.Sprintf("cannot tell what it still holds: %v", err)
	}
	if len(held) == 0 {
		return ""
	}
	verb := "are"
	if len(held) == 1 {
		verb = "is"
	}
	return fmt.Sprintf(what, count(len(held), noun), verb, list(held, 5))
}

// namespaceHolders returns the objects in ns that are not going with it: every
// object of every namespaced type the cluster lists and deletes (what deleting the
// namespace would delete), and the set's own objects there, which hold it even
// before they exist (a dry run). Events are not listed: they are records, not
// state.
func (r *run) namespaceHolders(ctx context.Context, ns string) ([]object.ID, error) {
	kinds, err := r.namespacedKinds(ctx)
	if err != nil {
		return nil, err
	}
	var (
		mu        sync.Mutex
		residents []resident
		errs      []error
	)
	parallel.Do(ctx, r.m.opts.Concurrency, len(kinds), func(i int) {
		found, err := r.residents(ctx, kinds[i], ns)
		if apierrors.IsNotFound(err) {
			// The type went away since discovery (its CRD was just deleted, by
			// this prune perhaps), and its objects with it.
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("list %s in namespace %s: %w", kinds[i].gvr.GroupResource(), ns, err))
			return
		}
		residents = append(residents, found...)
	})
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, err
	}
	held := object.NewSet(r.holding(residents)...)
	for id := range r.desired {
		if id.Namespace == ns {
			held.Add(id)
		}
	}
	return held.Sorted(), nil
}

// definitionHolders returns the custom resources of the CustomResourceDefinition
// crd that are not going with it, and the set's own objects of its kind.
func (r *run) definitionHolders(ctx context.Context, crd *unstructured.Unstructured) ([]object.ID, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	version := servedVersion(crd)
	if version == "" || kind == "" || plural == "" {
		return nil, errors.New("it serves no version its objects can be listed with")
	}
	k := residentKind{gvr: schema.GroupVersionResource{Group: group, Version: version, Resource: plural}, kind: kind}
	residents, err := r.residents(ctx, k, metav1.NamespaceAll)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", k.gvr.GroupResource(), err)
	}
	held := object.NewSet(r.holding(residents)...)
	for id := range r.desired {
		if id.Group == group && id.Kind == kind {
			held.Add(id)
		}
	}
	return held.Sorted(), nil
}

// servedVersion returns the storage version of crd if it is served, else the
// first served one, else "".
func servedVersion(crd *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	first := ""
	for _, v := range versions {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		if served, _ := m["served"].(bool); !served || name == "" {
			continue
		}
		if storage, _ := m["storage"].(bool); storage {
			return name
		}
		if first == "" {
			first = name
		}
	}
	return first
}

// residentKind is a resource type whose objects are listed, with their kind.
type residentKind struct {
	gvr  schema.GroupVersionResource
	kind string
}

// namespacedKinds returns the namespaced resource types the cluster lists and
// deletes, at their preferred versions, found once per apply. Without a discovery
// client, or when the discovery of a group fails, it fails: a type it cannot see
// may hold what a namespace deletion would take.
func (r *run) namespacedKinds(ctx context.Context) ([]residentKind, error) {
	r.kinds.once.Do(func() {
		d := r.m.opts.Discovery
		if d == nil {
			r.kinds.err = errors.New("no discovery client to list its resource types (apply.Options.Discovery)")
			return
		}
		lists, err := d.ServerPreferredNamespacedResources()
		if err != nil {
			r.kinds.err = fmt.Errorf("discover resource types: %w", err)
			return
		}
		lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list", "delete"}}, lists)
		for _, l := range lists {
			gv, err := schema.ParseGroupVersion(l.GroupVersion)
			if err != nil {
				continue
			}
			for _, res := range l.APIResources {
				if strings.Contains(res.Name, "/") || res.Name == "events" && (gv.Group == "" || gv.Group == "events.k8s.io") {
					continue
				}
				r.kinds.list = append(r.kinds.list, residentKind{gvr: gv.WithResource(res.Name), kind: res.Kind})
			}
		}
	})
	if r.kinds.err != nil {
		return nil, r.kinds.err
	}
	return r.kinds.list, ctx.Err()
}

// residents lists the objects of k in namespace ns (every namespace for ""), as
// metadata only when the Manager has a metadata client.
func (r *run) residents(ctx context.Context, k residentKind, ns string) ([]resident, error) {
	var out []resident
	add := func(o metav1.Object) {
		var owners []types.UID
		for _, ref := range o.GetOwnerReferences() {
			owners = append(owners, ref.UID)
		}
		out = append(out, resident{
			id:  object.ID{Group: k.gvr.Group, Kind: k.kind, Namespace: o.GetNamespace(), Name: o.GetName()},
			uid: o.GetUID(), owners: owners, deleting: o.GetDeletionTimestamp() != nil,
		})
	}
	opts := metav1.ListOptions{Limit: 500}
	for {
		var next string
		if r.m.meta != nil {
			l, err := r.m.meta.Resource(k.gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			for i := range l.Items {
				add(&l.Items[i])
			}
			next = l.Continue
		} else {
			l, err := r.m.client.Resource(k.gvr).Namespace(ns).List(ctx, opts)
			if err != nil {
				return nil, err
			}
			for i := range l.Items {
				add(&l.Items[i])
			}
			next = l.GetContinue()
		}
		if opts.Continue = next; next == "" {
			return out, nil
		}
	}
}

// holding returns the residents that are not going in this pass (see [holding]).
func (r *run) holding(residents []resident) []object.ID {
	r.going.mu.Lock()
	uids, ids := maps.Clone(r.going.uids), maps.Clone(r.going.ids)
	r.going.mu.Unlock()
	return holding(residents, uids, ids, r.opts.PropagationPolicy != metav1.DeletePropagationOrphan)
}

// holding returns the residents that stay when the objects deleted in this pass
// (by UID in uids, by identity in ids) are gone: those not deleted, not being
// deleted already, not created by the control plane in every namespace, and, when
// owners propagate their deletion, not owned only by objects that go. Endpoints go
// with their Service, whose name they share (the endpoints controller removes them
// without an owner reference).
func holding(residents []resident, uids map[types.UID]bool, ids object.Set, owners bool) []object.ID {
	gone := make(map[types.UID]bool, len(uids)+len(residents))
	maps.Copy(gone, uids)
	for _, o := range residents {
		if o.deleting {
			gone[o.uid] = true
		}
	}
	for changed := owners; changed; {
		changed = false
		for _, o := range residents {
			if gone[o.uid] || len(o.owners) == 0 || slices.ContainsFunc(o.owners, func(u types.UID) bool { return !gone[u] }) {
				continue
			}
			gone[o.uid], changed = true, true
		}
	}
	services := object.NewSet()
	for id := range ids {
		if id.Group == "" && id.Kind == "Service" {
			services.Add(id)
		}
	}
	for _, o := range residents {
		if gone[o.uid] && o.id.Group == "" && o.id.Kind == "Service" {
			services.Add(o.id)
		}
	}
	var held []object.ID
	for _, o := range residents {
		if gone[o.uid] || slices.Contains(everyNamespace, object.ID{Group: o.id.Group, Kind: o.id.Kind, Name: o.id.Name}) {
			continue
		}
		if o.id.Group == "" && o.id.Kind == "Endpoints" && services.Has(object.ID{Kind: "Service", Namespace: o.id.Namespace, Name: o.id.Name}) {
			continue
		}
		held = append(held, o.id)
	}
	slices.SortFunc(held, object.Compare)
	return held
}

// count returns "1 object", "3 objects".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// list returns the first n ids, comma-separated, and how many more there are.
func list(ids []object.ID, n int) string {
	parts := make([]string, 0, n+1)
	for i, id := range ids {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(ids)-n))
			break
		}
		parts = append(parts, id.KubectlString())
	}
	return strings.Join(parts, ", ")
}
