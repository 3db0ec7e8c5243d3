package apply

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
)

// Labels and annotations of the ApplySet specification (KEP-3659), as kubectl
// writes and reads them.
const (
	ApplySetIDLabel                   = "applyset.kubernetes.io/id"
	ApplySetPartOfLabel               = "applyset.kubernetes.io/part-of"
	ApplySetToolingAnnotation         = "applyset.kubernetes.io/tooling"
	ApplySetGroupKindsAnnotation      = "applyset.kubernetes.io/contains-group-kinds"
	ApplySetGroupResourcesAnnotation  = "applyset.kubernetes.io/contains-group-resources"
	ApplySetAdditionalNamespacesAnnot = "applyset.kubernetes.io/additional-namespaces"
)

// DefaultTooling is the tooling annotation gitopskit writes on ApplySet parents.
const DefaultTooling = "gitopskit/v1"

// ApplySetID returns the `applyset.kubernetes.io/id` of the ApplySet whose parent is
// parent, computed as kubectl does: "applyset-" + base64url (no padding) of the
// SHA-256 of "<name>.<namespace>.<kind>.<group>" + "-v1".
func ApplySetID(parent object.ID) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{parent.Name, parent.Namespace, parent.Kind, parent.Group}, ".")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// ApplySetOptions configure an [ApplySet].
type ApplySetOptions struct {
	// Tooling is written to and expected in the tooling annotation, as
	// "name/version" (DefaultTooling). Only the name must match on later applies.
	// kubectl acts only on sets whose tooling name is "kubectl".
	Tooling string
	// FieldManager writes the parent (the Manager's field manager + "-applyset").
	FieldManager string
	// Metadata, when set, lists members as metadata only (PartialObjectMetadata),
	// which is all Load needs: the API server then sends a fraction of each object.
	// Without it members are listed whole through the dynamic client.
	Metadata metadata.Interface
}

// ApplySet is the default [Inventory]: a KEP-3659 ApplySet whose parent object (a
// Secret or ConfigMap in a namespace, or a kind the caller chooses) records the
// group-kinds and namespaces of the members, and whose members carry the
// `applyset.kubernetes.io/part-of` label. Members are found by listing those kinds in
// those namespaces with that label, as `kubectl apply --prune --applyset` does, so
// both see the same set. It is safe for concurrent use.
type ApplySet struct {
	client  dynamic.Interface
	meta    metadata.Interface
	mapper  meta.RESTMapper
	parent  object.ID
	id      string
	tooling string
	manager string
}

// ApplySet returns the ApplySet inventory with parent as its parent object, using
// the Manager's clients (for a Manager from [New], members are listed as metadata
// only). See [NewApplySet].
func (m *Manager) ApplySet(parent object.ID, opts ApplySetOptions) (*ApplySet, error) {
	if opts.FieldManager == "" {
		opts.FieldManager = m.opts.FieldManager + "-applyset"
	}
	if opts.Metadata == nil {
		opts.Metadata = m.meta
	}
	return NewApplySet(m.client, m.mapper, parent, opts)
}

// NewApplySet returns the ApplySet inventory whose parent object is parent. The parent
// is created on the first Store. Secrets and ConfigMaps need a namespace.
func NewApplySet(client dynamic.Interface, mapper meta.RESTMapper, parent object.ID, opts ApplySetOptions) (*ApplySet, error) {
	if parent.Kind == "" || parent.Name == "" {
		return nil, fmt.Errorf("applyset parent %s: kind and name must be set", parent)
	}
	if parent.Group == "" && (parent.Kind == "Secret" || parent.Kind == "ConfigMap") && parent.Namespace == "" {
		return nil, fmt.Errorf("applyset parent %s: a %s parent needs a namespace", parent, parent.Kind)
	}
	if opts.Tooling == "" {
		opts.Tooling = DefaultTooling
	}
	if opts.FieldManager == "" {
		opts.FieldManager = DefaultFieldManager + "-applyset"
	}
	return &ApplySet{client: client, meta: opts.Metadata, mapper: mapper, parent: parent, id: ApplySetID(parent),
		tooling: opts.Tooling, manager: opts.FieldManager}, nil
}

// ID returns the ApplySet's identity, the value of its id and part-of labels.
func (a *ApplySet) ID() string { return a.id }

// Parent returns the ApplySet's parent object.
func (a *ApplySet) Parent() object.ID { return a.parent }

// Labels returns the part-of label members carry.
func (a *ApplySet) Labels() map[string]string {
	return map[string]string{ApplySetPartOfLabel: a.id}
}

func (a *ApplySet) parentResource() (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	mapping, err := a.mapper.RESTMapping(a.parent.GroupKind())
	if err != nil {
		return nil, nil, fmt.Errorf("applyset parent %s: %w", a.parent, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.client.Resource(mapping.Resource).Namespace(a.parent.Namespace), mapping, nil
	}
	return a.client.Resource(mapping.Resource), mapping, nil
}

// Load lists the members: the objects labelled as part of the set, in the kinds and
// namespaces the parent records. A missing parent is an empty set. A parent with
// another tooling name or identity is an error wrapping [ErrForeignInventory].
func (a *ApplySet) Load(ctx context.Context) ([]object.ID, error) {
	return a.LoadListed(ctx, nil)
}

// readParent returns the parent, from listed when it has the parent's resource
// and namespace (it may be metadata only: the labels and annotations are all that
// is read), else with a GET; nil when it does not exist.
func (a *ApplySet) readParent(ctx context.Context, listed Listed) (metav1.Object, error) {
	res, mapping, err := a.parentResource()
	if err != nil {
		return nil, err
	}
	if listed != nil {
		ns := ""
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = a.parent.Namespace
		}
		if objs, ok := listed(mapping.Resource, ns); ok {
			for _, o := range objs {
				if o.GetName() == a.parent.Name {
					return o, nil
				}
			}
			return nil, nil
		}
	}
	parent, err := res.Get(ctx, a.parent.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("applyset parent %s: %w", a.parent, err)
	}
	return parent, nil
}

// Listed returns every object of a resource in a namespace ("" for cluster-scoped
// resources) when the caller has listed them all already, and false otherwise.
// The objects may be full (*unstructured.Unstructured) or metadata only
// (*metav1.PartialObjectMetadata): only their names, namespaces and labels are read.
type Listed func(gvr schema.GroupVersionResource, namespace string) ([]metav1.Object, bool)

// LoadListed returns the members as [ApplySet.Load] does, but reads them (and the
// parent) off the caller's complete lists where listed has one, and lists only the
// rest: a caller that has just listed the live objects of a set, or keeps them
// from watches, saves the same lists again.
func (a *ApplySet) LoadListed(ctx context.Context, listed Listed) ([]object.ID, error) {
	parent, err := a.readParent(ctx, listed)
	if err != nil || parent == nil {
		return nil, err
	}
	if got := parent.GetLabels()[ApplySetIDLabel]; got != a.id {
		return nil, fmt.Errorf("applyset parent %s: label %s=%q, want %q: %w", a.parent, ApplySetIDLabel, got, a.id, ErrForeignInventory)
	}
	ann := parent.GetAnnotations()
	if got, want := toolingName(ann[ApplySetToolingAnnotation]), toolingName(a.tooling); got != want {
		return nil, fmt.Errorf("applyset parent %s: managed by %q, not %q: %w", a.parent, got, want, ErrForeignInventory)
	}
	gks, ok := ann[ApplySetGroupKindsAnnotation]
	if !ok {
		return nil, fmt.Errorf("applyset parent %s: annotation %s is missing", a.parent, ApplySetGroupKindsAnnotation)
	}
	namespaces := splitList(ann[ApplySetAdditionalNamespacesAnnot])
	if a.parent.Namespace != "" {
		namespaces = append(namespaces, a.parent.Namespace)
	}
	var lists []listKey
	for _, s := range splitList(gks) {
		mapping, err := a.mapper.RESTMapping(schema.ParseGroupKind(s))
		if meta.IsNoMatchError(err) {
			continue // the kind is gone, and its objects with it
		}
		if err != nil {
			return nil, fmt.Errorf("applyset parent %s: kind %s: %w", a.parent, s, err)
		}
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			lists = append(lists, listKey{gvr: mapping.Resource})
			continue
		}
		for _, ns := range namespaces {
			lists = append(lists, listKey{gvr: mapping.Resource, namespace: ns})
		}
	}
	var ids []object.ID
	rest := lists[:0:0]
	for _, k := range lists {
		objs, ok := []metav1.Object(nil), false
		if listed != nil {
			objs, ok = listed(k.gvr, k.namespace)
		}
		if !ok {
			rest = append(rest, k)
			continue
		}
		gvk, err := a.mapper.KindFor(k.gvr)
		if err != nil {
			return nil, fmt.Errorf("applyset parent %s: %w", a.parent, err)
		}
		for _, o := range objs {
			if o.GetLabels()[ApplySetPartOfLabel] == a.id {
				ids = append(ids, object.ID{Group: gvk.Group, Kind: gvk.Kind, Namespace: o.GetNamespace(), Name: o.GetName()})
			}
		}
	}
	more, err := a.list(ctx, rest)
	if err != nil {
		return nil, err
	}
	ids = append(ids, more...)
	slices.SortFunc(ids, object.Compare)
	return ids, nil
}

// list lists the members in lists, concurrently.
func (a *ApplySet) list(ctx context.Context, lists []listKey) ([]object.ID, error) {
	var (
		mu   sync.Mutex
		ids  []object.ID
		errs []error
	)
	selector := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: a.Labels()})
	parallel.Do(ctx, 8, len(lists), func(i int) {
		k := lists[i]
		opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
		for {
			page, next, err := a.listPage(ctx, k, opts)
			mu.Lock()
			if err != nil {
				errs = append(errs, fmt.Errorf("list members %s in %q: %w", k.gvr, k.namespace, err))
				mu.Unlock()
				return
			}
			ids = append(ids, page...)
			mu.Unlock()
			if opts.Continue = next; opts.Continue == "" {
				return
			}
		}
	})
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, err
	}
	slices.SortFunc(ids, object.Compare)
	return ids, nil
}

// listPage lists one page of members of k, and returns the continue token.
func (a *ApplySet) listPage(ctx context.Context, k listKey, opts metav1.ListOptions) ([]object.ID, string, error) {
	var ids []object.ID
	if a.meta != nil {
		l, err := a.meta.Resource(k.gvr).Namespace(k.namespace).List(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		// Metadata items carry the list's type, not the member's: the kind comes
		// from the resource listed.
		gvk, err := a.mapper.KindFor(k.gvr)
		if err != nil {
			return nil, "", err
		}
		for _, item := range l.Items {
			ids = append(ids, object.ID{Group: gvk.Group, Kind: gvk.Kind, Namespace: item.Namespace, Name: item.Name})
		}
		return ids, l.Continue, nil
	}
	l, err := a.client.Resource(k.gvr).Namespace(k.namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	for j := range l.Items {
		ids = append(ids, object.IDOf(&l.Items[j]))
	}
	return ids, l.GetContinue(), nil
}

// Store records the group-kinds and namespaces of members on the parent, creating
// it if needed, with server-side apply (forced: the parent is ours).
func (a *ApplySet) Store(ctx context.Context, members []object.ID) error {
	res, mapping, err := a.parentResource()
	if err != nil {
		return err
	}
	gks := map[string]bool{}
	nss := map[string]bool{}
	for _, id := range members {
		gks[id.GroupKind().String()] = true
		if id.Namespace != "" && id.Namespace != a.parent.Namespace {
			nss[id.Namespace] = true
		}
	}
	md := map[string]any{
		"name":   a.parent.Name,
		"labels": map[string]any{ApplySetIDLabel: a.id},
		"annotations": map[string]any{
			ApplySetToolingAnnotation:         a.tooling,
			ApplySetGroupKindsAnnotation:      joinSorted(gks),
			ApplySetAdditionalNamespacesAnnot: joinSorted(nss),
		},
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		md["namespace"] = a.parent.Namespace
	}
	data, err := json.Marshal(map[string]any{
		"apiVersion": mapping.GroupVersionKind.GroupVersion().String(),
		"kind":       mapping.GroupVersionKind.Kind,
		"metadata":   md,
	})
	if err != nil {
		return err
	}
	force := true
	_, err = res.Patch(ctx, a.parent.Name, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: a.manager, Force: &force})
	if err != nil {
		return fmt.Errorf("applyset parent %s: %w", a.parent, err)
	}
	return nil
}

func toolingName(tooling string) string {
	if i := strings.LastIndex(tooling, "/"); i >= 0 {
		return tooling[:i]
	}
	return tooling
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func joinSorted(set map[string]bool) string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
