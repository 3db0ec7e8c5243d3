package logging

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

func TestFrom(t *testing.T) {
	var got []string
	named := funcr.New(func(prefix, args string) { got = append(got, "named "+args) }, funcr.Options{})
	carried := funcr.New(func(prefix, args string) { got = append(got, "carried "+args) }, funcr.Options{})
	ctx := logr.NewContext(context.Background(), carried)

	From(ctx, named).Info("a")
	From(ctx, logr.Logger{}).Info("b")
	From(context.Background(), logr.Logger{}).Info("c") // discarded
	want := []string{`named "level"=0 "msg"="a"`, `carried "level"=0 "msg"="b"`}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q, want %q", got, want)
	}
}
