package helm4

import (
	"maps"
	"slices"

	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"

	"github.com/gitopskit/gitopskit/internal/parallel"
	"github.com/gitopskit/gitopskit/render/helm/internal/kindorder"
	"github.com/gitopskit/gitopskit/render/internal/capture"
)

// byKind orders kinds as Helm 4 installs them (releaseutil.InstallOrder).
var byKind = kindorder.Compare(releaseutil.InstallOrder)

// sorted is what releaseutil.SortManifests returns, and what it logged.
type sorted struct {
	hooks     []*release.Hook
	manifests []releaseutil.Manifest
	logged    []string
	err       error
}

// sortManifests is releaseutil.SortManifests(files, nil,
// releaseutil.InstallOrder), run on one file at a time, on all processors:
// Helm parses every document on one, which is most of a render's time. The
// files' results, in name order, are then sorted by kind as Helm sorts them
// (stable, so within a kind the order is Helm's), the first file's error is
// Helm's first, and what Helm logs comes in Helm's order.
func sortManifests(files map[string]string) sorted {
	names := slices.Sorted(maps.Keys(files))
	each := make([]sorted, len(names))
	parallel.Split(len(names), 1, func(i int) {
		s := &each[i]
		// capture.Log keeps what this goroutine logs, which the render's own
		// capture, on another goroutine, would not see.
		s.logged = capture.Log(func() {
			s.hooks, s.manifests, s.err = releaseutil.SortManifests(map[string]string{names[i]: files[names[i]]}, nil, releaseutil.InstallOrder)
		})
	})
	var all sorted
	for _, s := range each {
		all.logged = append(all.logged, s.logged...)
		if s.err != nil {
			all.err = s.err
			return all
		}
		all.hooks = append(all.hooks, s.hooks...)
		all.manifests = append(all.manifests, s.manifests...)
	}
	slices.SortStableFunc(all.manifests, func(a, b releaseutil.Manifest) int { return byKind(a.Head.Kind, b.Head.Kind) })
	slices.SortStableFunc(all.hooks, func(a, b *release.Hook) int { return byKind(a.Kind, b.Kind) })
	return all
}
