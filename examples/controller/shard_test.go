package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitopskit/gitopskit/examples/controller/api/v1alpha1"
)

// passLog records the passes of every replica, and whether two ever ran on one
// GitSync at once.
type passLog struct {
	mu       sync.Mutex
	inFlight map[string]string // GitSync -> replica
	by       map[string][]string
	after    map[string]time.Time // first pass by a replica other than the dead one, after it died
	dead     string
	diedAt   time.Time
	overlaps []string
}

func (l *passLog) hook(replica string) func(string, bool) {
	return func(key string, started bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !started {
			delete(l.inFlight, key)
			return
		}
		if other, ok := l.inFlight[key]; ok {
			l.overlaps = append(l.overlaps, fmt.Sprintf("%s by %s while %s ran it", key, replica, other))
		}
		l.inFlight[key] = replica
		l.by[key] = append(l.by[key], replica)
		if l.dead != "" && replica != l.dead {
			if _, seen := l.after[key]; !seen {
				l.after[key] = time.Now()
			}
		}
	}
}

// Three replicas share six GitSyncs, each reconciled by the replica the hash
// gives it. One replica is stopped: within the lease duration (plus one renewal)
// the others take its GitSyncs over, and no GitSync is ever reconciled by two
// replicas at once.
func TestShardsShareAndTakeOver(t *testing.T) {
	cfg := cluster.Config(t)
	ns := cluster.NewNamespace(t)
	installCRD(t, cfg)
	c := newClient(t, cfg)
	ctx := context.Background()
	files := map[string]string{}
	for i := range 6 {
		files[fmt.Sprintf("deploy-%d/cm.yaml", i)] = configMapYAML("", fmt.Sprintf("cm-%d", i))
	}
	_, url, rev := serveRepo(t, files)

	const lease = 3 * time.Second
	log := &passLog{inFlight: map[string]string{}, by: map[string][]string{}, after: map[string]time.Time{}}
	replicas := []string{"r1", "r2", "r3"}
	stops := map[string]func(){}
	for _, id := range replicas {
		stops[id] = startManager(t, cfg, options{shardID: id, shardNamespace: ns, shardLeaseDuration: lease,
			passHook: log.hook(id), concurrent: 2}, ns)
	}
	// Every replica reads the members once a renewal after the last joined.
	waitFor(t, "three members", func() bool {
		var leases coordinationv1.LeaseList
		if err := c.List(ctx, &leases, client.InNamespace(ns), client.HasLabels{shardMemberLabel}); err != nil {
			t.Fatal(err)
		}
		return len(leases.Items) == 3
	})
	time.Sleep(lease / 3)
	var keys []string
	for i := range 6 {
		gs := newGitSync(ns, fmt.Sprintf("set-%d", i), url, fmt.Sprintf("deploy-%d", i), true)
		if err := c.Create(ctx, gs); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, client.ObjectKeyFromObject(gs).String())
	}
	for _, k := range keys {
		key := client.ObjectKey{Namespace: ns, Name: k[len(ns)+1:]}
		waitStatus(t, c, key, "applied", func(s v1alpha1.GitSyncStatus) bool {
			return readyIs(metav1.ConditionTrue, "Succeeded")(s) && s.LastAppliedRevision == rev
		})
	}
	owners := map[string]string{}
	log.mu.Lock()
	for _, k := range keys {
		owners[k] = owner(replicas, k)
		for _, r := range log.by[k] {
			if r != owners[k] {
				t.Errorf("%s reconciled by %s, its owner is %s", k, r, owners[k])
			}
		}
	}
	log.mu.Unlock()
	t.Logf("owners: %v", owners)

	// Stop the replica that owns the most GitSyncs.
	count := map[string]int{}
	for _, o := range owners {
		count[o]++
	}
	dead := replicas[0]
	for _, r := range replicas {
		if count[r] > count[dead] {
			dead = r
		}
	}
	stops[dead]()
	log.mu.Lock()
	log.dead, log.diedAt = dead, time.Now()
	log.mu.Unlock()
	var moved []string
	for _, k := range keys {
		if owners[k] == dead {
			moved = append(moved, k)
		}
	}
	waitFor(t, "the stopped replica's GitSyncs taken over", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		for _, k := range moved {
			if _, ok := log.after[k]; !ok {
				return false
			}
		}
		return true
	})
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, k := range moved {
		took := log.after[k].Sub(log.diedAt)
		t.Logf("%s (was %s's) reconciled by %s %v after it stopped", k, dead, log.by[k][len(log.by[k])-1], took.Round(time.Millisecond))
		if took > 3*lease {
			t.Errorf("%s taken over after %v, the lease is %v", k, took, lease)
		}
	}
	for _, k := range keys {
		if owners[k] != dead {
			for _, r := range log.by[k] {
				if r != owners[k] {
					t.Errorf("%s moved to %s although its owner %s still runs", k, r, owners[k])
				}
			}
		}
	}
	if len(log.overlaps) > 0 {
		t.Fatalf("reconciled by two replicas at once: %v", log.overlaps)
	}
}
