package gitopsengine

import (
	"context"
	"encoding/json"
	"fmt"

	gediff "github.com/argoproj/argo-cd/gitops-engine/v3/pkg/diff"
	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/kube-openapi/pkg/util/proto"

	"github.com/gitopskit/gitopskit/bench/internal/workload"
)

// dryRunner is gitops-engine's ServerSideDryRunner over a dynamic client: a
// server-side apply with dryRun=All as the given manager, forced, the same request
// gitopskit's server engine sends (gitops-engine's own runner goes through kubectl's
// apply code and does not force, which would fail on the pairs another manager
// edited).
type dryRunner struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func (r *dryRunner) Run(ctx context.Context, obj *unstructured.Unstructured, manager string) (string, error) {
	gvk := obj.GroupVersionKind()
	m, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return "", err
	}
	out, err := r.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Apply(ctx, obj.GetName(), obj,
		metav1.ApplyOptions{FieldManager: manager, Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(out.Object)
	return string(js), err
}

// geOptions returns the options Argo CD passes gitops-engine's diff for a client-side
// comparison (no ignoreDifferences, so the no-op normalizer) and, with server true,
// for a server-side one: a dry-run runner and the GVK parser that removing webhook
// mutations (on by default) needs.
func geOptions(cfg *rest.Config, server bool) ([]gediff.Option, error) {
	opts := []gediff.Option{gediff.WithLogr(logr.Discard()), gediff.WithManager(workload.FieldManager)}
	if !server {
		return opts, nil
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	doc, err := dc.OpenAPISchema()
	if err != nil {
		return nil, err
	}
	models, err := proto.NewOpenAPIData(doc)
	if err != nil {
		return nil, err
	}
	parser, err := managedfields.NewGVKParser(models, false)
	if err != nil {
		return nil, err
	}
	runner := &dryRunner{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
	return append(opts, gediff.WithServerSideDiff(true), gediff.WithServerSideDryRunner(runner), gediff.WithGVKParser(parser)), nil
}

// geDiff diffs the pairs with gitops-engine, one after the other as its DiffArray
// does, and returns the indexes of the pairs it found modified.
func geDiff(ctx context.Context, desired, live []*unstructured.Unstructured, opts []gediff.Option) (map[int]bool, error) {
	modified := map[int]bool{}
	for i := range desired {
		r, err := gediff.Diff(ctx, desired[i], live[i], opts...)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", desired[i].GetKind(), desired[i].GetName(), err)
		}
		if r.Modified {
			modified[i] = true
		}
	}
	return modified, nil
}
