package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// The labels of the Leases sharding uses.
const (
	shardMemberLabel = "gitsync.gitopskit.io/shard-member"
	shardClaimLabel  = "gitsync.gitopskit.io/shard-claim"
)

// Shard lets replicas of the controller share the GitSyncs: each replica holds a
// membership Lease, renewed every RenewInterval, and owns the GitSyncs that a
// rendezvous hash of the live members gives it, so that a replica joining or
// leaving moves only its own share. Before a pass, the owner claims the GitSync
// with a Lease of its own (renewed while the pass runs, released after it), so
// that no GitSync is reconciled by two replicas at once while the members
// change. A replica that dies stops renewing: its membership and its claims
// expire after LeaseDuration, and the others take its GitSyncs over.
type Shard struct {
	// Client writes and reads the Leases; it must read around any cache.
	Client client.Client
	// Namespace holds the Leases.
	Namespace string
	// ID names this replica (the pod's name).
	ID string
	// LeaseDuration is how long a Lease holds without renewal (default 15s).
	LeaseDuration time.Duration
	// RenewInterval is how often the membership is renewed and read (default
	// LeaseDuration/3).
	RenewInterval time.Duration

	members atomic.Pointer[[]string] // sorted; nil until the first read
}

func (s *Shard) duration() time.Duration {
	if s.LeaseDuration > 0 {
		return s.LeaseDuration
	}
	return 15 * time.Second
}

func (s *Shard) renewInterval() time.Duration {
	if s.RenewInterval > 0 {
		return s.RenewInterval
	}
	return s.duration() / 3
}

// Start renews the membership and reads the members until ctx is done. It
// implements manager.Runnable; it does not need leader election.
func (s *Shard) Start(ctx context.Context) error {
	t := time.NewTicker(s.renewInterval())
	defer t.Stop()
	for {
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			logf.FromContext(ctx).Error(err, "shard membership")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica
// runs its membership.
func (s *Shard) NeedLeaderElection() bool { return false }

// refresh renews this replica's membership Lease and reads the live members.
func (s *Shard) refresh(ctx context.Context) error {
	if _, err := s.hold(ctx, "gitsync-shard-"+s.ID, shardMemberLabel, true); err != nil {
		return err
	}
	var leases coordinationv1.LeaseList
	if err := s.Client.List(ctx, &leases, client.InNamespace(s.Namespace), client.HasLabels{shardMemberLabel}); err != nil {
		return fmt.Errorf("list shard members: %w", err)
	}
	now := time.Now()
	var members []string
	for _, l := range leases.Items {
		if holder := ptr.Deref(l.Spec.HolderIdentity, ""); holder != "" && !expired(&l, now) {
			members = append(members, holder)
		}
	}
	slices.Sort(members)
	s.members.Store(&members)
	return nil
}

// Owns reports whether this replica owns the GitSync key (namespace/name): the
// member whose hash with the key is highest. Before the first read of the
// members it owns nothing.
func (s *Shard) Owns(key string) bool {
	m := s.members.Load()
	return m != nil && owner(*m, key) == s.ID
}

// owner returns the member of members with the highest hash of member and key
// (rendezvous hashing): removing a member moves only the keys it owned.
func owner(members []string, key string) string {
	var best string
	var bestScore uint64
	for _, m := range members {
		sum := sha256.Sum256([]byte(m + "\x00" + key))
		if score := binary.BigEndian.Uint64(sum[:8]); best == "" || score > bestScore {
			best, bestScore = m, score
		}
	}
	return best
}

// Claim takes the GitSync key for a pass. ok is false while another replica
// holds it. While claimed, the Lease is renewed in the background; release
// ends the claim.
func (s *Shard) Claim(ctx context.Context, key string) (release func(), ok bool, err error) {
	name := claimName(key)
	if ok, err := s.hold(ctx, name, shardClaimLabel, false); !ok || err != nil {
		return nil, false, err
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(s.duration() / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				_, _ = s.hold(renewCtx, name, shardClaimLabel, false)
			}
		}
	})
	return func() {
		stop()
		wg.Wait()
		s.let(context.WithoutCancel(ctx), name)
	}, true, nil
}

// claimName is the Lease name of a GitSync's claim: readable when short, a
// digest when the key would make it too long.
func claimName(key string) string {
	name := "gitsync-claim-" + strings.ReplaceAll(key, "/", "-")
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(key))
	return "gitsync-claim-" + hex.EncodeToString(sum[:12])
}

// hold creates or renews the Lease name for this replica: ok is false when
// another holder has it and it has not expired (or, with force, never: a
// membership Lease is only ever this replica's).
func (s *Shard) hold(ctx context.Context, name, label string, force bool) (bool, error) {
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(s.duration().Seconds())
	var l coordinationv1.Lease
	err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, &l)
	if apierrors.IsNotFound(err) {
		l = coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: name, Labels: map[string]string{label: "true"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(s.ID), LeaseDurationSeconds: ptr.To(seconds),
				AcquireTime: &now, RenewTime: &now},
		}
		err = s.Client.Create(ctx, &l)
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder != s.ID && holder != "" && !expired(&l, now.Time) && !force {
		return false, nil
	}
	if holder != s.ID {
		l.Spec.AcquireTime = &now
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = ptr.To(s.ID), ptr.To(seconds), &now
	err = s.Client.Update(ctx, &l) // conflicts with a concurrent claim by resourceVersion
	if apierrors.IsConflict(err) {
		return false, nil
	}
	return err == nil, err
}

// let releases the claim name if this replica still holds it.
func (s *Shard) let(ctx context.Context, name string) {
	var l coordinationv1.Lease
	if err := s.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, &l); err != nil {
		return
	}
	if ptr.Deref(l.Spec.HolderIdentity, "") != s.ID {
		return
	}
	l.Spec.HolderIdentity = ptr.To("")
	_ = s.Client.Update(ctx, &l)
}

// expired reports whether l's holder stopped renewing it more than its duration ago.
func expired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second))
}
