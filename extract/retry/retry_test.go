package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/retry"
)

func TestBackoff(t *testing.T) {
	p := retry.Policy{Base: 100 * time.Millisecond, Max: time.Second, Jitter: 0.5}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 30: time.Second} {
		for range 50 {
			d := p.Backoff(n)
			if d < want*3/4 || d > want*5/4 {
				t.Fatalf("Backoff(%d) = %s, want %s ± 25%%", n, d, want)
			}
		}
	}
	if d := (retry.Policy{Base: time.Second, Max: time.Second, Jitter: 0}).Backoff(3); d != time.Second {
		t.Fatalf("no jitter: %s", d)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{"0", 0, true},
		{"Wed, 25 Nov 2026 18:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 17:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range tests {
		d, ok := retry.RetryAfter(tc.in, now)
		if d != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%q) = %s, %v", tc.in, d, ok)
		}
	}
	p := retry.Policy{MaxRetryAfter: 5 * time.Second, Base: time.Millisecond, Max: time.Millisecond}
	resp := &http.Response{Header: http.Header{"Retry-After": {"3600"}}}
	if d := p.Wait(1, resp, now); d != 5*time.Second {
		t.Fatalf("Retry-After not capped: %s", d)
	}
}

func TestStatusError(t *testing.T) {
	for st, want := range map[int]error{429: extract.ErrRetryable, 503: extract.ErrRetryable, 401: extract.ErrAuth, 403: extract.ErrAuth} {
		if err := error(&retry.StatusError{Status: st}); !errors.Is(err, want) {
			t.Errorf("%d: %v does not wrap %v", st, err, want)
		}
	}
	if err := error(&retry.StatusError{Status: 404}); errors.Is(err, extract.ErrRetryable) || errors.Is(err, extract.ErrAuth) {
		t.Errorf("404 wraps a sentinel")
	}
}

// After a 429 every worker waits for the pause, requests are then spaced
// out, and successes bring the spacing back to nothing.
func TestLimiter(t *testing.T) {
	l := retry.NewLimiter(20*time.Millisecond, 80*time.Millisecond)
	ctx := context.Background()
	start := time.Now()
	if err := l.Wait(ctx); err != nil || time.Since(start) > 90*time.Millisecond {
		t.Fatal("an idle limiter waits")
	}
	l.Throttled(100 * time.Millisecond)
	start = time.Now()
	done := make(chan time.Duration, 3)
	for range 3 {
		go func() { l.Wait(ctx); done <- time.Since(start) }()
	}
	var last time.Duration
	for range 3 {
		d := <-done
		if d < 95*time.Millisecond {
			t.Fatalf("a worker went after %s, before the 100ms pause", d)
		}
		last = max(last, d)
	}
	if last < 130*time.Millisecond {
		t.Fatalf("three workers after a 429 finished within %s: not spaced out", last)
	}
	l.Throttled(0)
	if l.Interval() != 40*time.Millisecond {
		t.Fatalf("interval %s after two 429s", l.Interval())
	}
	l.Succeeded()
	l.Succeeded()
	if l.Interval() != 0 {
		t.Fatalf("interval %s after successes: no recovery", l.Interval())
	}
	cctx, cancel := context.WithCancel(ctx)
	l.Throttled(time.Hour)
	cancel()
	if err := l.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context: %v", err)
	}
}

func ExamplePolicy_Wait() {
	p := retry.Policy{Base: time.Second, Max: time.Minute, Jitter: 0}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	fmt.Println(p.Wait(1, resp, time.Now()), p.Wait(3, nil, time.Now()))
	// Output: 7s 4s
}

// Do retries what wraps ErrRetryable, stops on anything else or on Stop, does
// not count tries that progressed, retries Now tries at once, and throttles the
// shared limiter on a 429.
func TestDo(t *testing.T) {
	p := retry.Policy{MaxAttempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}
	transient := fmt.Errorf("boom: %w", extract.ErrRetryable)
	fatal := errors.New("fatal")
	tests := []struct {
		name  string
		seq   []retry.Attempt // what the tries report, in order (the last repeats)
		tries int
		want  error
	}{
		{"success at once", []retry.Attempt{{}}, 1, nil},
		{"transient then success", []retry.Attempt{{Err: transient}, {Err: transient}, {}}, 3, nil},
		{"transient until spent", []retry.Attempt{{Err: transient}}, 3, extract.ErrRetryable},
		{"fatal at once", []retry.Attempt{{Err: fatal}}, 1, fatal},
		{"stop wins over retryable", []retry.Attempt{{Err: retry.Stop(transient)}}, 1, extract.ErrRetryable},
		{"progress does not count", []retry.Attempt{{Err: transient, Progressed: true}}, 12, extract.ErrRetryable},
		{"now is not counted", []retry.Attempt{{Err: transient, Now: true}, {Err: transient}}, 4, extract.ErrRetryable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := retry.Do(context.Background(), p, nil, func(i int) retry.Attempt {
				n++
				if i != n {
					t.Fatalf("try %d numbered %d", n, i)
				}
				return tc.seq[min(i, len(tc.seq))-1]
			})
			if n != tc.tries || !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("%d tries, err %v; want %d tries, %v", n, err, tc.tries, tc.want)
			}
			var st interface{ Unwrap() error }
			if errors.As(err, &st) && fmt.Sprintf("%T", st) == "*retry.stopError" {
				t.Fatalf("Stop leaked out of Do: %T", err)
			}
		})
	}
	// A 429 with Retry-After throttles everyone sharing the limiter, and the wait is the server's.
	l := retry.NewLimiter(time.Millisecond, 10*time.Millisecond)
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"0"}}}
	tries := 0
	err := retry.Do(context.Background(), p, l, func(int) retry.Attempt {
		if tries++; tries == 1 {
			return retry.Attempt{Resp: resp, Err: &retry.StatusError{Op: "x", Status: 429}}
		}
		return retry.Attempt{}
	})
	if err != nil || tries != 2 || l.Interval() == 0 {
		t.Fatalf("429: err %v after %d tries, limiter interval %s", err, tries, l.Interval())
	}
	// A cancelled context ends Do with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := retry.Do(ctx, p, l, func(int) retry.Attempt { return retry.Attempt{Err: transient} }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
