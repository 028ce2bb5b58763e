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
