package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/gitopskit/gitopskit/internal/logging"
	"github.com/gitopskit/gitopskit/internal/parallel"
)

// Runner runs one pass of a set: a [*Reconciler], or anything that reconciles
// like one.
type Runner interface {
	Reconcile(ctx context.Context) (*Result, error)
}

// Set is one set of a [Group]: a name, what reconciles it, and the sets it
// depends on, as Flux's Kustomization dependsOn.
type Set struct {
	// Name identifies the set in the group, its results and its errors.
	Name string
	// Runner reconciles the set.
	Runner Runner
	// DependsOn names the sets whose pass must succeed, and whose objects must be
	// healthy, before this set's pass starts.
	DependsOn []string
}

// GroupOptions configure a [Group].
type GroupOptions struct {
	// Concurrency bounds the passes in flight (default 16, see
	// apply.DefaultConcurrency).
	Concurrency int
	// Timeout, when positive, bounds each set's pass: a set whose cluster is down
	// or slow fails with context.DeadlineExceeded and holds back only the sets
	// that depend on it.
	Timeout time.Duration
	// OnSetDone, when set, receives each set's result as soon as it is known, from
	// the goroutine that ran it (one at a time).
	OnSetDone func(SetResult)
	// Logger receives a line per set at V(1); unset, the logger of the call's
	// context (logr.FromContextOrDiscard).
	Logger logr.Logger
}

// Group reconciles sets that depend on each other, in dependency order, as many
// at once as GroupOptions.Concurrency allows: a set's pass starts once each set it
// depends on has passed without error and is healthy (Healthy or Suspended, or
// without a health stage). A set whose dependency failed or is not healthy yet
// does not run: its result says which dependency held it back ([*BlockedError]).
// Give the sets' Reconcilers Options.Wait, so that a pass returns once its objects
// are healthy, and call Reconcile again later for the sets held back, as a
// controller requeues them.
//
// A Group is built once for a graph of sets; Reconcile is safe for concurrent use
// (each Reconciler serialises its own passes).
type Group struct {
	sets  []Set
	index map[string]int
	opts  GroupOptions
}

// SetResult is the outcome of one set in a [Group] pass.
type SetResult struct {
	// Name is the set's name.
	Name string
	// Result is the set's pass; nil when it did not run.
	Result *Result
	// Err is the pass's error, or a [*BlockedError] when it did not run.
	Err error
	// Duration is the time the pass took; zero when it did not run.
	Duration time.Duration
}

// Ready reports whether the set passed and its objects are healthy: what a set
// that depends on it waits for.
func (r SetResult) Ready() bool {
	if r.Err != nil || r.Result == nil {
		return false
	}
	return r.Result.Health.Code == "" || r.Result.Health.Code.Done()
}

// BlockedError is the result of a set that did not run because a set it depends
// on is not ready.
type BlockedError struct {
	// Set is the set that did not run.
	Set string
	// DependsOn is the first dependency (in the order declared) that is not ready.
	DependsOn string
	// Reason says why it is not ready: its error, its health, or that it was
	// itself blocked.
	Reason string
}

// Error implements error.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("set %s: waiting for %s: %s", e.Set, e.DependsOn, e.Reason)
}

// SetCycleError reports sets that depend on each other in a cycle.
type SetCycleError struct {
	// Cycle lists the sets of the cycle, starting and ending with the same one.
	Cycle []string
}

// Error implements error.
func (e *SetCycleError) Error() string {
	return "set dependency cycle: " + strings.Join(e.Cycle, " -> ")
}

// NewGroup returns the Group of sets. Names must be unique and non-empty, every
// dependency must name a set of the group, and the dependencies must not form a
// cycle ([*SetCycleError] names it).
func NewGroup(sets []Set, opts GroupOptions) (*Group, error) {
	g := &Group{sets: slices.Clone(sets), index: make(map[string]int, len(sets)), opts: opts}
	if g.opts.Concurrency <= 0 {
		g.opts.Concurrency = parallel.DefaultLimit
	}
	for i, s := range g.sets {
		switch {
		case s.Name == "":
			return nil, fmt.Errorf("set %d has no name", i)
		case s.Runner == nil:
			return nil, fmt.Errorf("set %s has no runner", s.Name)
		}
		if _, dup := g.index[s.Name]; dup {
			return nil, fmt.Errorf("set %s is declared twice", s.Name)
		}
		g.index[s.Name] = i
	}
	for _, s := range g.sets {
		for _, d := range s.DependsOn {
			if _, ok := g.index[d]; !ok {
				return nil, fmt.Errorf("set %s depends on %s, which is not in the group", s.Name, d)
			}
		}
	}
	if cycle := g.cycle(); cycle != nil {
		return nil, &SetCycleError{Cycle: cycle}
	}
	return g, nil
}

// cycle returns a dependency cycle, or nil: a depth-first search in declaration
// order, so the cycle reported is the same on every call.
func (g *Group) cycle() []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(g.sets))
	var path []int
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = onPath
		path = append(path, i)
		for _, d := range g.sets[i].DependsOn {
			j := g.index[d]
			switch state[j] {
			case onPath:
				start := slices.Index(path, j)
				var names []string
				for _, k := range path[start:] {
					names = append(names, g.sets[k].Name)
				}
				return append(names, g.sets[j].Name)
			case unseen:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range g.sets {
		if state[i] == unseen {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

// Reconcile runs one pass of every set, each after its dependencies, and returns
// a result per set in the order the sets were given. The error joins the sets'
// errors (blocked sets included); a cancelled ctx stops sets that have not
// started, which report ctx's error.
func (g *Group) Reconcile(ctx context.Context) ([]SetResult, error) {
	log := logging.From(ctx, g.opts.Logger)
	n := len(g.sets)
	results := make([]SetResult, n)
	finished := make([]chan struct{}, n)
	for i := range finished {
		finished[i] = make(chan struct{})
	}
	var emit sync.Mutex
	sem := make(chan struct{}, g.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range g.sets {
		wg.Go(func() {
			defer close(finished[i])
			s := g.sets[i]
			res := SetResult{Name: s.Name}
			for _, d := range s.DependsOn {
				j := g.index[d]
				<-finished[j]
				if dep := results[j]; !dep.Ready() {
					res.Err = &BlockedError{Set: s.Name, DependsOn: d, Reason: notReady(dep)}
					break
				}
			}
			if res.Err == nil && ctx.Err() != nil {
				res.Err = ctx.Err()
			}
			if res.Err == nil {
				select {
				case sem <- struct{}{}:
					start := time.Now()
					res.Result, res.Err = g.run(ctx, s.Runner)
					res.Duration = time.Since(start)
					<-sem
				case <-ctx.Done():
					res.Err = ctx.Err()
				}
			}
			results[i] = res
			log.V(1).Info("set reconciled", "set", s.Name, "ready", res.Ready(), "duration", res.Duration, "error", res.Err)
			if g.opts.OnSetDone != nil {
				emit.Lock()
				g.opts.OnSetDone(res)
				emit.Unlock()
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			var blocked *BlockedError
			if errors.As(r.Err, &blocked) {
				errs = append(errs, r.Err)
			} else {
				errs = append(errs, fmt.Errorf("set %s: %w", r.Name, r.Err))
			}
		}
	}
	return results, errors.Join(errs...)
}

// run runs one set's pass, within GroupOptions.Timeout.
func (g *Group) run(ctx context.Context, r Runner) (*Result, error) {
	if g.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.opts.Timeout)
		defer cancel()
	}
	return r.Reconcile(ctx)
}

// notReady says why a dependency's result does not let its dependents run.
func notReady(r SetResult) string {
	var blocked *BlockedError
	switch {
	case errors.As(r.Err, &blocked):
		return "it is waiting for " + blocked.DependsOn
	case r.Err != nil:
		return "its pass failed: " + r.Err.Error()
	case r.Result == nil:
		return "it did not run"
	}
	h := r.Result.Health
	if h.Message != "" {
		return fmt.Sprintf("it is %s: %s", h.Code, h.Message)
	}
	return fmt.Sprintf("it is %s", h.Code)
}
