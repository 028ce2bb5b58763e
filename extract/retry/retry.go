// Package retry is the one retry loop, policy and shared rate limiter behind every DPC request
// dpcetl makes: the API client, token requests, export kick-off and polling, file downloads.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract"
)

// Policy says how often and how patiently to retry a failed request.
type Policy struct {
	MaxAttempts   int              // total attempts including the first (default 6)
	Base          time.Duration    // first backoff (default 500ms)
	Max           time.Duration    // cap of one backoff (default 30s)
	Jitter        float64          // fraction of the backoff randomised, 0..1 (0: none; Default() has 0.5)
	MaxRetryAfter time.Duration    // cap on a server's Retry-After (default 5m)
	Now           func() time.Time // clock for Retry-After dates (default time.Now)
}

// Default is the policy used when none is configured.
func Default() Policy {
	return Policy{MaxAttempts: 6, Base: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5, MaxRetryAfter: 5 * time.Minute}
}

func (p Policy) withDefaults() Policy {
	d := Default()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Jitter < 0 || p.Jitter > 1 {
		p.Jitter = d.Jitter
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// Backoff is the wait before attempt n+1 after n failed attempts (n >= 1):
// capped exponential with jitter, so that many workers do not retry in step.
func (p Policy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	if n < 1 {
		n = 1
	}
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	if d > p.Max {
		d = p.Max
	}
	if p.Jitter > 0 {
		j := time.Duration(float64(d) * p.Jitter * rand.Float64())
		d = d - time.Duration(float64(d)*p.Jitter/2) + j
	}
	return d
}

// Wait returns how long to wait after a failed attempt n: the response's
// Retry-After (capped) when it has one, else Backoff(n).
func (p Policy) Wait(n int, resp *http.Response, now time.Time) time.Duration {
	p = p.withDefaults()
	if resp != nil {
		if d, ok := RetryAfter(resp.Header.Get("Retry-After"), now); ok {
			if d > p.MaxRetryAfter {
				d = p.MaxRetryAfter
			}
			return d
		}
	}
	return p.Backoff(n)
}

// RetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Retryable reports whether an HTTP status is worth retrying: 429 and 5xx.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// StatusError is an unexpected HTTP answer. It wraps extract.ErrRetryable for 429
// and 5xx and extract.ErrAuth for 401 and 403.
type StatusError struct {
	Op     string // what was attempted, e.g. "download", "export kick-off"
	URL    string
	Status int
	Body   string // the start of the server's message, scrubbed of secrets by the caller
}

func (e *StatusError) Error() string {
	s := e.Op + " " + e.URL + ": HTTP " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Unwrap lets errors.Is find the sentinel that says what to do.
func (e *StatusError) Unwrap() error {
	switch {
	case Retryable(e.Status):
		return extract.ErrRetryable
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return extract.ErrAuth
	}
	return nil
}

// Limiter is shared by all workers talking to one server. After a 429 it
// pauses everyone until the server's Retry-After (or a backoff) has passed and
// then spaces requests out; each success shrinks the spacing until it is gone.
type Limiter struct {
	mu       sync.Mutex
	until    time.Time     // nobody starts a request before this
	interval time.Duration // least gap between request starts while recovering
	last     time.Time
	min, max time.Duration
	now      func() time.Time
}

// NewLimiter returns a limiter with no pause. minGap is the spacing imposed
// after the first 429 (default 100ms), maxGap its cap (default 5s).
func NewLimiter(minGap, maxGap time.Duration) *Limiter {
	if minGap <= 0 {
		minGap = 100 * time.Millisecond
	}
	if maxGap <= 0 {
		maxGap = 5 * time.Second
	}
	return &Limiter{min: minGap, max: maxGap, now: time.Now}
}

// Wait blocks until the caller may send a request.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	for {
		l.mu.Lock()
		now := l.now()
		start := l.until
		if l.interval > 0 && l.last.Add(l.interval).After(start) {
			start = l.last.Add(l.interval)
		}
		if !start.After(now) {
			l.last = now
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Unlock()
		if err := Sleep(ctx, start.Sub(now)); err != nil {
			return err
		}
	}
}

// Throttled records a 429: nobody starts a request for pause, and requests
// are spaced out (the spacing doubles on each 429 up to the cap).
func (l *Limiter) Throttled(pause time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if u := l.now().Add(pause); u.After(l.until) {
		l.until = u
	}
	if l.interval == 0 {
		l.interval = l.min
	} else if l.interval *= 2; l.interval > l.max {
		l.interval = l.max
	}
}

// Succeeded records a request that was not throttled; the spacing halves and
// disappears once below the minimum, so the limiter recovers.
func (l *Limiter) Succeeded() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.interval > 0 {
		l.interval /= 2
		if l.interval < l.min {
			l.interval = 0
		}
	}
}

// Interval is the current spacing between requests (0 when not throttled).
func (l *Limiter) Interval() time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.interval
}

// Attempt is what one try of Do reports.
type Attempt struct {
	// Resp is the answer, if one came (its body may be closed): a 429 throttles
	// everyone sharing the limiter, and its Retry-After sets the wait.
	Resp *http.Response
	// Err is nil when done. An error wrapping extract.ErrRetryable is tried
	// again (unless wrapped by Stop); any other error ends Do.
	Err error
	// Progressed says the try moved forward (a download saved new bytes): it
	// does not count against MaxAttempts, within 4 x MaxAttempts tries in all.
	Progressed bool
	// Now asks for the next try at once, not counted (a fresh download after
	// a checksum mismatch).
	Now bool
}

// Do is the one retry loop: it calls try (n = 1, 2, ...) until it succeeds,
// fails for good or the policy is spent, waiting on the shared limiter before
// each try and, between tries, the server's Retry-After or the backoff. The
// error of the last try is returned.
func Do(ctx context.Context, p Policy, l *Limiter, try func(n int) Attempt) error {
	p = p.withDefaults()
	failures := 0
	for n := 1; ; n++ {
		if err := l.Wait(ctx); err != nil {
			return err
		}
		a := try(n)
		if a.Resp != nil {
			if a.Resp.StatusCode == http.StatusTooManyRequests {
				l.Throttled(p.Wait(failures+1, a.Resp, p.Now()))
			} else {
				l.Succeeded()
			}
		}
		var st *stopError
		switch {
		case a.Err == nil:
			return nil
		case errors.As(a.Err, &st):
			return st.err
		case ctx.Err() != nil || !errors.Is(a.Err, extract.ErrRetryable):
			return a.Err
		case a.Now:
			if n >= 4*p.MaxAttempts {
				return a.Err
			}
			continue
		}
		if a.Progressed {
			failures = 0
		}
		if failures++; failures >= p.MaxAttempts || n >= 4*p.MaxAttempts {
			return a.Err
		}
		if err := Sleep(ctx, p.Wait(failures, a.Resp, p.Now())); err != nil {
			return errors.Join(a.Err, err)
		}
	}
}

// Stop makes err final for Do even when it wraps extract.ErrRetryable (the
// run may still be retried later by a scheduler). Do returns err itself.
func Stop(err error) error { return &stopError{err} }

type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }
