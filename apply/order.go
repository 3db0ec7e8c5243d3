package apply

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gitopskit/gitopskit/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Stage is a coarse step of the apply order, by kind: what others need comes first.
type Stage int

// The stages, in apply order. Pruning runs them in reverse.
const (
	// StageNamespaces holds Namespaces.
	StageNamespaces Stage = iota
	// StageCRDs holds CustomResourceDefinitions; the apply waits until they are
	// Established before going on, so their custom resources can follow in one set.
	StageCRDs
	// StageClusterConfig holds cluster-scoped configuration: ClusterRoles,
	// StorageClasses, PriorityClasses, admission policies, and unknown kinds of
	// objects without a namespace.
	StageClusterConfig
	// StageNamespacedConfig holds namespaced configuration: ServiceAccounts, Roles,
	// ConfigMaps, Secrets, Services, PersistentVolumeClaims, ...
	StageNamespacedConfig
	// StageWorkloads holds workloads (Deployments, StatefulSets, Jobs, Pods, ...) and
	// unknown kinds of namespaced objects, such as custom resources.
	StageWorkloads
	// StageWebhooks holds admission webhooks and APIServices, last, so that the
	// services behind them exist before the API server calls them.
	StageWebhooks
)

var stageNames = [...]string{"namespaces", "crds", "cluster-config", "namespaced-config", "workloads", "webhooks"}

// String returns the stage name.
func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return fmt.Sprintf("stage(%d)", int(s))
	}
	return stageNames[s]
}

// stageByKind places the built-in kinds; group and kind together.
var stageByKind = map[[2]string]Stage{
	{"", "Namespace"}: StageNamespaces,
	{"apiextensions.k8s.io", "CustomResourceDefinition"}: StageCRDs,

	{"rbac.authorization.k8s.io", "ClusterRole"}:                         StageClusterConfig,
	{"rbac.authorization.k8s.io", "ClusterRoleBinding"}:                  StageClusterConfig,
	{"storage.k8s.io", "StorageClass"}:                                   StageClusterConfig,
	{"storage.k8s.io", "CSIDriver"}:                                      StageClusterConfig,
	{"storage.k8s.io", "VolumeAttributesClass"}:                          StageClusterConfig,
	{"scheduling.k8s.io", "PriorityClass"}:                               StageClusterConfig,
	{"networking.k8s.io", "IngressClass"}:                                StageClusterConfig,
	{"node.k8s.io", "RuntimeClass"}:                                      StageClusterConfig,
	{"", "PersistentVolume"}:                                             StageClusterConfig,
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicy"}:        StageClusterConfig,
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"}: StageClusterConfig,
	{"admissionregistration.k8s.io", "MutatingAdmissionPolicy"}:          StageClusterConfig,
	{"admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"}:   StageClusterConfig,
	{"flowcontrol.apiserver.k8s.io", "FlowSchema"}:                       StageClusterConfig,
	{"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"}:       StageClusterConfig,
	{"resource.k8s.io", "DeviceClass"}:                                   StageClusterConfig,
	{"", "ServiceAccount"}:                                               StageNamespacedConfig,
	{"rbac.authorization.k8s.io", "Role"}:                                StageNamespacedConfig,
	{"rbac.authorization.k8s.io", "RoleBinding"}:                         StageNamespacedConfig,
	{"", "ConfigMap"}:                                                    StageNamespacedConfig,
	{"", "Secret"}:                                                       StageNamespacedConfig,
	{"", "Service"}:                                                      StageNamespacedConfig,
	{"", "Endpoints"}:                                                    StageNamespacedConfig,
	{"discovery.k8s.io", "EndpointSlice"}:                                StageNamespacedConfig,
	{"", "ResourceQuota"}:                                                StageNamespacedConfig,
	{"", "LimitRange"}:                                                   StageNamespacedConfig,
	{"", "PersistentVolumeClaim"}:                                        StageNamespacedConfig,
	{"networking.k8s.io", "NetworkPolicy"}:                               StageNamespacedConfig,
	{"networking.k8s.io", "Ingress"}:                                     StageNamespacedConfig,
	{"policy", "PodDisruptionBudget"}:                                    StageNamespacedConfig,
	{"", "Pod"}:                                                          StageWorkloads,
	{"", "ReplicationController"}:                                        StageWorkloads,
	{"apps", "Deployment"}:                                               StageWorkloads,
	{"apps", "StatefulSet"}:                                              StageWorkloads,
	{"apps", "DaemonSet"}:                                                StageWorkloads,
	{"apps", "ReplicaSet"}:                                               StageWorkloads,
	{"batch", "Job"}:                                                     StageWorkloads,
	{"batch", "CronJob"}:                                                 StageWorkloads,
	{"autoscaling", "HorizontalPodAutoscaler"}:                           StageWorkloads,
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"}:   StageWebhooks,
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"}:     StageWebhooks,
	{"apiregistration.k8s.io", "APIService"}:                             StageWebhooks,
}

// StageOf returns the stage of an object of identity id.
func StageOf(id object.ID) Stage {
	if s, ok := stageByKind[[2]string{id.Group, id.Kind}]; ok {
		return s
	}
	if id.Namespace == "" {
		return StageClusterConfig
	}
	return StageWorkloads
}

// Batch is a group of objects applied together, concurrently: every object of a
// batch may rely on every object of earlier batches.
type Batch struct {
	// Stage and Wave are those of the batch's first object; a batch made only to
	// honour a dependency can mix them.
	Stage   Stage
	Wave    int
	Objects []*unstructured.Unstructured
}

// item is one object of a set with what the apply order needs to know about it.
type item struct {
	obj   *unstructured.Unstructured
	id    object.ID
	dir   Directives
	stage Stage
}

// Order splits objs into batches: by stage, then by wave, then after the objects
// each depends on. Objects within a batch are sorted by identity, so the result does
// not depend on the input order. It fails on an annotation that does not parse, on a
// duplicate object, on a dependency outside the set ([*DependencyError]) and on a
// dependency cycle ([*CycleError]).
func Order(objs []*unstructured.Unstructured) ([]Batch, error) {
	items, err := newItems(objs, nil)
	if err != nil {
		return nil, err
	}
	groups, err := order(items, false)
	if err != nil {
		return nil, err
	}
	out := make([]Batch, len(groups))
	for i, g := range groups {
		out[i] = Batch{Stage: g[0].stage, Wave: g[0].dir.Wave}
		for _, it := range g {
			out[i].Objects = append(out[i].Objects, it.obj)
		}
	}
	return out, nil
}

// newItems parses the directives of objs and rejects duplicates and objects without
// a kind or name. scoped, when set, names each object and dependency as the API
// server does (without the namespace of a cluster-scoped kind), so that they
// compare equal to live and inventory identities.
func newItems(objs []*unstructured.Unstructured, scoped func(object.ID) (object.ID, error)) ([]item, error) {
	if scoped == nil {
		scoped = func(id object.ID) (object.ID, error) { return id, nil }
	}
	items := make([]item, 0, len(objs))
	seen := object.NewSet()
	for i, obj := range objs {
		if obj == nil {
			return nil, fmt.Errorf("object %d is nil", i)
		}
		id := object.IDOf(obj)
		if id.Name == "" && obj.GetGenerateName() != "" {
			id.Name = obj.GetGenerateName() + "*"
			return nil, fmt.Errorf("object %d (%s): named by metadata.generateName only: server-side apply and the inventory need metadata.name", i, id.KubectlString())
		}
		if id.Kind == "" || id.Name == "" || obj.GetAPIVersion() == "" {
			return nil, fmt.Errorf("object %d (%s): apiVersion, kind and name must be set", i, id.KubectlString())
		}
		id, err := scoped(id)
		if err != nil {
			return nil, err
		}
		if seen.Has(id) {
			return nil, fmt.Errorf("%s: %w", id.KubectlString(), object.ErrDuplicate)
		}
		seen.Add(id)
		dir, err := ParseDirectives(obj)
		if err != nil {
			return nil, err
		}
		for j, dep := range dir.DependsOn {
			if dir.DependsOn[j], err = scoped(dep); err != nil {
				return nil, fmt.Errorf("%s: dependency: %w", id.KubectlString(), err)
			}
		}
		items = append(items, item{obj: obj, id: id, dir: dir, stage: StageOf(id)})
	}
	slices.SortFunc(items, func(a, b item) int { return object.Compare(a.id, b.id) })
	return items, nil
}

// order groups items (sorted by identity) into batches. Each (stage, wave) key gets a
// base rank spaced widely enough that ranks bumped by dependencies never reach the
// next key; an item's rank is the larger of its base and one more than the rank of
// each dependency.
//
// With waveFirst, batches go by wave, then stage, as Argo CD orders a sync (wave,
// then kind): what a set with Argo CD's Sync hooks between its waves expects.
func order(items []item, waveFirst bool) ([][]item, error) {
	type key struct{ stage, wave int }
	keyOf := func(it item) key { return key{int(it.stage), it.dir.Wave} }
	compare := func(a, b key) int { return cmp.Or(cmp.Compare(a.stage, b.stage), cmp.Compare(a.wave, b.wave)) }
	if waveFirst {
		compare = func(a, b key) int { return cmp.Or(cmp.Compare(a.wave, b.wave), cmp.Compare(a.stage, b.stage)) }
	}
	var keys []key
	for _, it := range items {
		keys = append(keys, keyOf(it))
	}
	slices.SortFunc(keys, compare)
	keys = slices.Compact(keys)
	span := len(items) + 1

	index := make(map[object.ID]int, len(items))
	for i, it := range items {
		index[it.id] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(items))
	rank := make([]int, len(items))
	var path []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			start := slices.Index(path, i)
			cycle := make([]object.ID, 0, len(path)-start+1)
			for _, j := range path[start:] {
				cycle = append(cycle, items[j].id)
			}
			return &CycleError{Cycle: append(cycle, items[i].id)}
		}
		state[i] = visiting
		path = append(path, i)
		k, _ := slices.BinarySearchFunc(keys, keyOf(items[i]), compare)
		r := k * span
		deps := slices.Clone(items[i].dir.DependsOn)
		slices.SortFunc(deps, object.Compare)
		for _, dep := range deps {
			j, ok := index[dep]
			if !ok {
				return &DependencyError{ID: items[i].id, DependsOn: dep}
			}
			if err := visit(j); err != nil {
				return err
			}
			r = max(r, rank[j]+1)
		}
		path = path[:len(path)-1]
		state[i], rank[i] = done, r
		return nil
	}
	for i := range items {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	byRank := map[int][]item{}
	for i, it := range items {
		byRank[rank[i]] = append(byRank[rank[i]], it)
	}
	ranks := make([]int, 0, len(byRank))
	for r := range byRank {
		ranks = append(ranks, r)
	}
	slices.Sort(ranks)
	groups := make([][]item, len(ranks))
	for i, r := range ranks {
		groups[i] = byRank[r]
	}
	return groups, nil
}
