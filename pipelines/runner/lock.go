package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/load/lock"
)

// ErrLocked means another dpcetl run holds the state directory or the destination. It is
// retryable (exit 10): the scheduler's next try finds the lock free once that run ends.
var ErrLocked = fmt.Errorf("another dpcetl run is in progress: %w", extract.ErrRetryable)

// Lock names, beside the state (StateLockName in the state directory) and in the
// destination (DestinationLockKey, a lease object on S3).
const (
	StateLockName      = "dpcetl.lock"
	DestinationLockKey = StatePrefix + "lock.json"
)

// lockTTL is how long an S3 lease outlives a holder that stopped renewing it.
const lockTTL = lock.DefaultTTL

// lock takes the state directory's lock, then the destination's, for one stage. The
// returned release gives both up. A second run is refused with ErrLocked naming the holder.
func (r *Runner) lock(ctx context.Context, command string) (release func(), err error) {
	self := lock.Self(command)
	sl, err := lock.Dir(r.stateDir, StateLockName, self)
	if err != nil {
		return nil, lockErr("state directory "+r.stateDir, err)
	}
	dl, err := lock.Sink(ctx, r.sink, DestinationLockKey, self, lockTTL)
	if err != nil {
		sl.Release(context.WithoutCancel(ctx))
		return nil, lockErr("destination "+r.sink.URL(""), err)
	}
	r.destLock = dl
	return func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := dl.Release(cctx); err != nil {
			r.log.Warn("could not release the destination lock (it expires by itself)", "lock", dl.Where(), "err", err)
		}
		sl.Release(cctx)
		r.destLock = nil
	}, nil
}

func lockErr(what string, err error) error {
	if errors.Is(err, lock.ErrHeld) {
		return fmt.Errorf("%w: %s: %w", ErrLocked, what, err)
	}
	return fmt.Errorf("lock %s: %w", what, err)
}

// checkLock fails before a publish if the destination lease was lost (taken over after it
// could not be renewed): two writers must never publish at once.
func (r *Runner) checkLock() error {
	if r.destLock == nil {
		return nil
	}
	if err := r.destLock.Err(); err != nil {
		return fmt.Errorf("%w (not publishing)", err)
	}
	return nil
}
