package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/gitopskit/gitopskit/apply"
	"github.com/gitopskit/gitopskit/diff"
	"github.com/gitopskit/gitopskit/kube"
	"github.com/gitopskit/gitopskit/object"
	"github.com/gitopskit/gitopskit/render"
)

// clusterInput reads what the diff against the cluster needs: the live copies of
// the desired objects and of the inventory's members, and the inventory.
func clusterInput(ctx context.Context, o options, head *render.Result, rep *report) (diff.Engine, diff.Input, error) {
	cfg, err := o.clusterConfig()
	if err != nil {
		return nil, diff.Input{}, err
	}
	clients, err := kube.NewForConfig(cfg, kube.Options{})
	if err != nil {
		return nil, diff.Input{}, err
	}
	dyn, dc, mapper := clients.Dynamic, clients.Discovery, clients.Mapper
	if o.Namespace != "" {
		t := render.Transform{Namespace: o.Namespace, Mapper: mapper, UnknownKinds: render.UnknownKindsNamespaced}
		if err := t.Apply(head); err != nil {
			return nil, diff.Input{}, err
		}
	}
	in := diff.Input{Desired: object.Objects(head.Manifests)}
	// Named as the cluster names them: a cluster-scoped object declared with a
	// namespace has none live, nor in the inventory.
	if err := asNamed(mapper, in.Desired); err != nil {
		return nil, diff.Input{}, err
	}
	ids := object.NewSet()
	for _, u := range in.Desired {
		ids.Add(object.IDOf(u))
	}
	if o.Inventory != "" {
		ns, name, _ := strings.Cut(o.Inventory, "/")
		set, err := apply.NewApplySet(dyn, mapper, object.ID{Kind: "Secret", Namespace: ns, Name: name},
			apply.ApplySetOptions{FieldManager: o.FieldManager + "-applyset"})
		if err != nil {
			return nil, diff.Input{}, err
		}
		members, err := set.Load(ctx)
		if err != nil {
			return nil, diff.Input{}, fmt.Errorf("inventory %s: %w", o.Inventory, err)
		}
		for _, id := range members {
			ids.Add(id)
		}
		// The apply labels every member; without the labels here, the diff would
		// show their removal.
		for i, u := range in.Desired {
			u = u.DeepCopy()
			labels := u.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			for k, v := range set.Labels() {
				labels[k] = v
			}
			u.SetLabels(labels)
			in.Desired[i] = u
		}
		in.Live, err = readLive(ctx, dyn, mapper, ids.Sorted())
		if err != nil {
			return nil, diff.Input{}, err
		}
		in.Inventory = rep.prunable(onlyIDs(in.Live, members), in.Desired)
	} else if in.Live, err = readLive(ctx, dyn, mapper, ids.Sorted()); err != nil {
		return nil, diff.Input{}, err
	}
	if o.Engine == "server" {
		return diff.NewServer(dyn, mapper), in, nil
	}
	return diff.NewOffline(diff.NewClusterSchemas(dc.OpenAPIV3()), diff.OfflineOptions{}), in, nil
}

// asNamed replaces each object of objs whose kind is cluster-scoped and that
// declares a namespace by a copy without it. The CustomResourceDefinitions among
// objs say first, since the cluster may not serve their kinds yet, then mapper; a
// kind neither knows keeps its namespace (reading it finds nothing live).
func asNamed(mapper meta.RESTMapper, objs []*unstructured.Unstructured) error {
	crd := schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
	clusterScoped := map[schema.GroupKind]bool{}
	for _, u := range objs {
		if u.GroupVersionKind().GroupKind() == crd {
			group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
			scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
			clusterScoped[schema.GroupKind{Group: group, Kind: kind}] = scope == "Cluster"
		}
	}
	for i, u := range objs {
		gk := u.GroupVersionKind().GroupKind()
		cs, ok := clusterScoped[gk]
		if u.GetNamespace() != "" && !ok {
			m, err := mapper.RESTMapping(gk)
			if err != nil && !meta.IsNoMatchError(err) {
				return fmt.Errorf("%s: scope of its kind: %w", object.IDOf(u).KubectlString(), err)
			}
			cs = err == nil && m.Scope.Name() == meta.RESTScopeNameRoot
		}
		if cs && u.GetNamespace() != "" {
			objs[i] = u.DeepCopy()
			objs[i].SetNamespace("")
		}
	}
	return nil
}

// onlyIDs returns the objects of live whose IDs are in ids.
func onlyIDs(live []*unstructured.Unstructured, ids []object.ID) []*unstructured.Unstructured {
	want := object.NewSet(ids...)
	var out []*unstructured.Unstructured
	for _, u := range live {
		if want.Has(object.IDOf(u)) {
			out = append(out, u)
		}
	}
	return out
}

// readLive gets the objects named by ids that exist, eight requests at a time.
// Kinds the cluster does not serve (yet) have no live objects.
func readLive(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, ids []object.ID) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = getLive(ctx, dyn, mapper, id)
		})
	}
	wg.Wait()
	var live []*unstructured.Unstructured
	for i, u := range out {
		if errs[i] != nil {
			return nil, fmt.Errorf("read %s: %w", ids[i], errs[i])
		}
		if u != nil {
			live = append(live, u)
		}
	}
	return live, nil
}

func getLive(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, id object.ID) (*unstructured.Unstructured, error) {
	m, err := mapper.RESTMapping(schema.GroupKind{Group: id.Group, Kind: id.Kind})
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		r = dyn.Resource(m.Resource).Namespace(id.Namespace)
	}
	u, err := r.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// deducedSchemas is the schema source of a diff between two renders: there is no
// cluster to read OpenAPI schemas from, so objects are typed by deduction (lists
// compare as a whole), which is exact for a comparison of two manifests.
type deducedSchemas struct{}

func (deducedSchemas) TypeConverter(context.Context, schema.GroupVersionKind) (managedfields.TypeConverter, error) {
	return managedfields.NewDeducedTypeConverter(), nil
}

// identityFields are the fields the API server leaves out of managedFields.
var identityFields = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
)

// asLive returns a copy of u as the API server would hold it after manager applied
// it: with a managedFields entry owning every field u declares, so that a field
// the next revision drops is a removal.
func asLive(u *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	live := u.DeepCopy()
	tv, err := managedfields.NewDeducedTypeConverter().ObjectToTyped(live)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", object.IDOf(u), err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", object.IDOf(u), err)
	}
	raw, err := set.Difference(identityFields).ToJSON()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", object.IDOf(u), err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("%s: %w", object.IDOf(u), err)
	}
	entry := map[string]any{
		"manager": manager, "operation": "Apply", "apiVersion": live.GetAPIVersion(),
		"fieldsType": "FieldsV1", "fieldsV1": fields,
	}
	if err := unstructured.SetNestedSlice(live.Object, []any{entry}, "metadata", "managedFields"); err != nil {
		return nil, fmt.Errorf("%s: %w", object.IDOf(u), err)
	}
	return live, nil
}

// prunable returns the IDs of the live objects a prune would delete when they left
// the set: all but those annotated to be kept (gitopskit.io/prune or Flux's
// kustomize.toolkit.fluxcd.io/prune: disabled); the report lists those of them
// that desired no longer declares.
func (r *report) prunable(live, desired []*unstructured.Unstructured) []object.ID {
	declared := object.NewSet()
	for _, u := range desired {
		declared.Add(object.IDOf(u))
	}
	var ids []object.ID
	for _, u := range live {
		id := object.IDOf(u)
		if d, err := apply.ParseDirectives(u); err == nil && d.KeepOnPrune {
			if !declared.Has(id) {
				r.Kept = append(r.Kept, id.String())
			}
			continue
		}
		ids = append(ids, id)
	}
	return ids
}
