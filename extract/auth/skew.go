package auth

import (
	"net/http"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract"
)

// Skew estimates how far the server's clock is from ours, from the Date headers of its
// responses, so that client assertions are signed on the server's time: a server refuses
// an assertion whose exp is more than 5 minutes ahead of its own clock, or already past.
// Token sources for any server share it.
type Skew struct {
	progress extract.Progress
	report   time.Duration

	mu       sync.Mutex
	skew     time.Duration // server minus local
	seen     bool
	reported time.Duration
}

// NewSkew returns an estimator that emits an EventClockSkew to progress whenever the
// estimate moves past report (5 s when 0).
func NewSkew(progress extract.Progress, report time.Duration) *Skew {
	if report <= 0 {
		report = 5 * time.Second
	}
	return &Skew{progress: progress, report: report}
}

// Get is the last estimate (positive: the server is ahead) and whether one was made.
func (s *Skew) Get() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skew, s.seen
}

// Observe records the server's clock from resp's Date header, against the local time its
// request started. Date is truncated to the second, so the estimate errs by at most a
// second plus the latency. It returns the new estimate, or false without a Date.
func (s *Skew) Observe(resp *http.Response, start time.Time) (time.Duration, bool) {
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0, false
	}
	// Date has whole seconds: add half a second to centre the estimate.
	skew := d.Add(500 * time.Millisecond).Sub(start)
	if abs(skew) < time.Second {
		skew = 0
	}
	skew = skew.Round(time.Second)
	s.mu.Lock()
	s.skew, s.seen = skew, true
	report := abs(skew) >= s.report && abs(skew-s.reported) >= time.Second
	if report {
		s.reported = skew
	}
	s.mu.Unlock()
	if report {
		s.progress.Emit(extract.Event{Kind: extract.EventClockSkew, Skew: skew})
	}
	return skew, true
}

// Resign reports whether a token request refused with status, signed on the estimate
// (before, known) and answered at start, should be signed again once on the server's
// time: a 401 when the skew was not known before and the answer moved it by over 20 s.
func (s *Skew) Resign(resp *http.Response, start time.Time, before time.Duration, known bool) bool {
	now, changed := s.Observe(resp, start)
	return resp.StatusCode == http.StatusUnauthorized && !known && changed && abs(now-before) > 20*time.Second
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
