package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/load/lock"
)

// ErrLocked means another dpcetl run holds a group of this run, in the state directory or
// in the destination. It is retryable (exit 10): the scheduler's next try finds the lock
// free once that run ends (or once its holder is found dead).
var ErrLocked = fmt.Errorf("another dpcetl run is in progress: %w", extract.ErrRetryable)

// Locks are per group, so that one process per group (the scale-out model: Airflow mapped
// tasks, one Kubernetes Job per group) may share a state directory and a destination,
// while two runs of the same group never overlap. Everything a run touches is per group:
// its job state, downloads, tables, quarantine, run ids, partitions, watermark and pending
// record.
//
//	{state_dir}/locks/group-{sha256(group)[:16]}.lock       flock(2), holder pid/host/start
//	{destination}/_state/groups/{group}/lock.json            file: flock(2); S3: lease object
func stateLockPath(stateDir, group string) string {
	h := sha256.Sum256([]byte(group))
	return filepath.Join(stateDir, "locks", "group-"+hex.EncodeToString(h[:8])+".lock")
}

// DestinationLockKey is the key of a group's lock (an S3 lease object) in the destination.
func DestinationLockKey(group string) string {
	return StatePrefix + "groups/" + url.PathEscape(group) + "/lock.json"
}

// heldLocks are the locks a stage holds; filled before the groups start, then read-only.
type heldLocks struct {
	dest  map[string]*lock.Lock // group → destination lock
	local []*lock.Lock
}

// lock takes, for every group of the run (in sorted order), the state-directory lock and
// then the destination lock. A group held by another run fails the stage with ErrLocked
// naming the holder; release gives up everything taken.
func (r *Runner) lock(ctx context.Context, command string) (release func(), err error) {
	self := lock.Self(command)
	h := &heldLocks{dest: map[string]*lock.Lock{}}
	release = func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for g, l := range h.dest {
			if err := l.Release(cctx); err != nil {
				r.log.Warn("could not release the destination lock (it expires by itself)", "group", g, "lock", l.Where(), "err", err)
			}
		}
		for _, l := range h.local {
			l.Release(cctx)
		}
		r.locks.Store(nil)
	}
	groups := slices.Clone(r.groups)
	slices.Sort(groups)
	for _, g := range slices.Compact(groups) {
		p := stateLockPath(r.stateDir, g)
		l, err := lock.File(p, self)
		if err != nil {
			release()
			return nil, lockErr(fmt.Sprintf("group %s in state directory %s", g, r.stateDir), err)
		}
		h.local = append(h.local, l)
		dl, err := lock.Sink(ctx, r.sink, DestinationLockKey(g), self, lock.DefaultTTL)
		if err != nil {
			release()
			return nil, lockErr(fmt.Sprintf("group %s in destination %s", g, r.sink.URL("")), err)
		}
		h.dest[g] = dl
	}
	r.locks.Store(h)
	return release, nil
}

func lockErr(what string, err error) error {
	if errors.Is(err, lock.ErrHeld) {
		return fmt.Errorf("%w: %s: %w", ErrLocked, what, err)
	}
	return fmt.Errorf("lock %s: %w", what, err)
}

// checkLock fails before a publish if the group's destination lease was lost (taken over
// after it could not be renewed): two writers of one group must never publish at once.
func (r *Runner) checkLock(group string) error {
	h := r.locks.Load()
	if h == nil {
		return nil
	}
	if l := h.dest[group]; l != nil {
		if err := l.Err(); err != nil {
			return fmt.Errorf("%w (not publishing; a rerun takes the lock again): %w", err, extract.ErrRetryable)
		}
	}
	return nil
}
