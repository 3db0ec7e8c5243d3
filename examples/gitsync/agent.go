package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gitopskit/gitopskit/reconcile"
)

// agent runs passes of a reconciler on an interval and when a webhook asks, and
// serves its metrics and health endpoints.
type agent struct {
	rec     *reconcile.Reconciler
	out     *printer
	metrics *metrics
	trigger chan struct{}
	// drift, when set, receives when an object of the set changes in the cluster
	// (reconcile.Cluster.Drifted): a pass heals it at once, not at the next tick.
	drift <-chan struct{}
	ready atomic.Bool
	// hookSecret, when set, is what a POST /hook must prove it knows.
	hookSecret []byte
	// passed, when set, receives the outcome of every pass (the demo waits on it).
	passed chan passOutcome
}

type passOutcome struct {
	res *reconcile.Result
	err error
}

func newAgent(out *printer, m *metrics) *agent {
	return &agent{out: out, metrics: m, trigger: make(chan struct{}, 1)}
}

// loop runs a pass at once, then on every tick of interval, every trigger and every
// drift, until ctx is done. Those that arrive during a pass coalesce into one more
// pass.
func (a *agent) loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.trigger:
		case <-a.drift:
		}
	}
}

// pass runs one pass. When ctx is done during the pass (a shutdown), the pass
// stops at the next stage (an apply or prune in flight finishes, see safeApplier)
// and its summary says so; it is not counted in the metrics.
func (a *agent) pass(ctx context.Context) (*reconcile.Result, error) {
	res, err := a.rec.Reconcile(ctx)
	if ctx.Err() != nil && err != nil {
		a.out.summary(res, err, true)
		return res, err
	}
	a.metrics.observe(res, err)
	a.out.summary(res, err, false)
	if err == nil {
		a.ready.Store(true)
	}
	if a.passed != nil {
		select {
		case a.passed <- passOutcome{res, err}:
		case <-ctx.Done(): // nobody waits any more
		}
	}
	return res, err
}

// routes serves POST /hook (asks for a pass now, for a Git forge's push webhook,
// signed when the agent has a secret),
// /metrics, /healthz (the process runs) and /readyz (a pass has succeeded).
func (a *agent) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		// The hook carries no data the agent trusts: it only asks for a pass, which
		// fetches from the configured repository as a scheduled one would. With a
		// secret, only a forge that knows it may ask.
		if !authorized(w, r, a.hookSecret) {
			http.Error(w, "webhook signature or token missing or wrong", http.StatusUnauthorized)
			return
		}
		select {
		case a.trigger <- struct{}{}:
		default: // a pass is already queued
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("reconcile queued\n"))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "no successful pass yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", a.metrics.handler())
	return mux
}
