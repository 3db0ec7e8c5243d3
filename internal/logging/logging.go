// Package logging picks the logger of a call: the one the caller's options name,
// else the one its context carries (logr.NewContext, as a controller-runtime
// reconciler's request-scoped logger arrives), else none.
package logging

import (
	"context"

	"github.com/go-logr/logr"
)

// From returns l when it has a sink, else the logger of ctx, else a logger that
// discards.
func From(ctx context.Context, l logr.Logger) logr.Logger {
	if l.GetSink() != nil {
		return l
	}
	return logr.FromContextOrDiscard(ctx)
}
