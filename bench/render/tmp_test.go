package render_test

import (
	"context"
	"testing"

	"github.com/gitopskit/gitopskit/render"
	"github.com/gitopskit/gitopskit/render/kustomize"
)

func BenchmarkTmpOurs(b *testing.B) {
	in := open(b, writeKustomization(b))
	in.Dir = "overlay"
	r := kustomize.New(kustomize.Options{})
	for b.Loop() {
		if _, err := r.Render(context.Background(), in, render.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
