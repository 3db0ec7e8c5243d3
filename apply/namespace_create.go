package apply

import (
	"context"
	"fmt"
	"sort"

	"github.com/gitopskit/gitopskit/internal/ssa"
	"github.com/gitopskit/gitopskit/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// parented is an [Inventory] stored in an object, such as [ApplySet]: with
// [ApplyOptions.CreateNamespace], the parent's namespace is created too.
type parented interface {
	Parent() object.ID
}

// neededNamespaces returns the namespaces to create that the set does not
// declare, each with the first object that uses it, sorted by name: with
// CreateNamespace, those of the set's namespaced objects and the inventory's
// parent; without, those of the objects annotated CreateNamespace=true.
func (r *run) neededNamespaces(items []item) []nsUse {
	users := map[string]object.ID{}
	use := func(ns string, id object.ID) {
		if ns == "" || r.desired.Has(object.ID{Kind: "Namespace", Name: ns}) {
			return
		}
		if _, ok := users[ns]; !ok {
			users[ns] = id
		}
	}
	if p, ok := r.opts.Inventory.(parented); ok && r.opts.CreateNamespace {
		use(p.Parent().Namespace, p.Parent())
	}
	for _, it := range items {
		if !r.opts.CreateNamespace && !it.dir.CreateNamespace {
			continue
		}
		// A kind the mapper does not know (its CRD is in the set) keeps the
		// namespace it declares: its scope is not known before the CRD applies.
		if m, err := r.m.mapper.RESTMapping(it.id.GroupKind()); err == nil && m.Scope.Name() != meta.RESTScopeNameNamespace {
			continue
		}
		use(it.id.Namespace, it.id)
	}
	out := make([]nsUse, 0, len(users))
	for ns, id := range users {
		out = append(out, nsUse{ns, id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ns < out[j].ns })
	return out
}

type nsUse struct {
	ns string
	by object.ID
}

// createNamespaces creates, by server-side apply with the field manager, every
// namespace to create (see neededNamespaces) that does not exist, and
// reports each as created (in a dry run, without creating it). A created namespace
// does not become a member of the inventory: it is never pruned.
func (r *run) createNamespaces(ctx context.Context, items []item) error {
	for _, u := range r.neededNamespaces(items) {
		_, err := r.m.client.Resource(namespacesGVR).Get(ctx, u.ns, metav1.GetOptions{})
		switch {
		case err == nil:
			continue
		case apierrors.IsForbidden(err):
			continue // a tenant may not read namespaces: the apply will tell
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("create namespace %q for %s: %w", u.ns, u.by, err)
		}
		id := object.ID{Kind: "Namespace", Name: u.ns}
		ev := Event{ID: id, Action: Created, Stage: StageNamespaces, DryRun: r.opts.DryRun,
			Reason: fmt.Sprintf("created for %s (CreateNamespace); not a member of the inventory", u.by)}
		if r.opts.DryRun {
			r.creates[u.ns] = true
			r.emit(ev)
			continue
		}
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(u.ns)
		if _, err := r.m.client.Resource(namespacesGVR).Apply(ctx, u.ns, ns, metav1.ApplyOptions{FieldManager: r.m.opts.FieldManager}); err != nil {
			err = fmt.Errorf("create namespace %q for %s: %w", u.ns, u.by, err)
			r.emit(Event{ID: id, Action: Failed, Stage: StageNamespaces, Err: err, Reason: err.Error()})
			return err
		}
		r.emit(ev)
	}
	return nil
}

// missingNamespace explains an error that says the namespace ns of id does not
// exist, when the set does not create it: what to do about it.
func (r *run) missingNamespace(err error, ns string, id object.ID) error {
	if ns == "" || r.desired.Has(object.ID{Kind: "Namespace", Name: ns}) || !ssa.IsNamespaceNotFound(err, ns) {
		return err
	}
	return fmt.Errorf("%w: namespace %q of %s does not exist and the set does not declare it; "+
		"add the Namespace to the set or apply with CreateNamespace", err, ns, id)
}
