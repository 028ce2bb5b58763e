package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/export"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
	"github.com/dpcetl/dpcetl/extract/retry"
)

// fast keeps tests quick: small backoffs, short polls.
var fast = []export.Option{
	export.WithRetry(retry.Policy{MaxAttempts: 5, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}),
	export.WithPollBackoff(retry.Policy{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}),
}

func client(sb *sandboxtest.Sandbox, opts ...export.Option) *export.Client {
	// Time passes for both sides alike: tests that move the server clock move ours.
	ts := auth.NewTokenSource(sb.Cred, auth.WithClock(sb.Srv.Clock().Now))
	return export.New(sb.Srv.BaseURL(), &http.Client{Transport: ts.Transport(nil)}, append(fast, opts...)...)
}

func TestParseProgress(t *testing.T) {
	tests := []struct {
		in    string
		state string
		pct   float64
		ok    bool
	}{
		{"RUNNING: 45.50%", "RUNNING", 45.5, true},
		{"QUEUED: 0.00%", "QUEUED", 0, true},
		{"RUNNING: 100%", "RUNNING", 100, true},
		{" running : 7.25 % ", "RUNNING", 7.25, true},
		{"RUNNING: 120.00%", "RUNNING", -1, false},
		{"RUNNING", "RUNNING", -1, false},
		{"", "", -1, false},
		{"RUNNING: abc%", "RUNNING", -1, false},
		{"In Progress (45%)", "IN PROGRESS", 45, true}, // BCDA (bcda/models/models.go StatusMessage)
		{"Pending", "PENDING", -1, false},
		{"45% complete", "", 45, true}, // AB2D (StatusCommon.java)
		{"12.5%", "", 12.5, true},      // the SMART sandbox
		{"step 3 of 4: 75%", "STEP 3 OF 4", 75, true},
	}
	for _, tc := range tests {
		s, p, ok := export.ParseProgress(tc.in)
		if s != tc.state || p != tc.pct || ok != tc.ok {
			t.Errorf("ParseProgress(%q) = %q, %v, %v; want %q, %v, %v", tc.in, s, p, ok, tc.state, tc.pct, tc.ok)
		}
	}
}

func TestManifestGuideExample(t *testing.T) {
	b, err := os.ReadFile("../../testdata/extract/manifest-guide.json")
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := export.Output{Type: "ExplanationOfBenefit", URL: "https://sandbox.dpc.cms.gov/api/v1/data/42/DBBD1CE1-AE24-435C-807D-ED45953077D3.ndjson",
		Checksum: "sha256:8b74ba377554fa73de2a2da52cab9e1d160550247053e4d6aba1968624c67b10", FileLength: 2468}
	if len(m.Output) != 1 || m.Output[0] != want {
		t.Fatalf("output = %+v", m.Output)
	}
	if len(m.Error) != 1 || m.Error[0].Type != "OperationOutcome" || len(m.Files()) != 2 {
		t.Fatalf("error = %+v", m.Error)
	}
	if !m.TransactionTime.Equal(time.Date(2018, 10, 19, 14, 47, 33, 975024000, time.UTC)) || !m.RequiresAccessToken {
		t.Fatalf("transactionTime %v", m.TransactionTime)
	}
	// The flattened form (state files) reads back the same.
	b2, _ := json.Marshal(m)
	var m2 export.Manifest
	if err := json.Unmarshal(b2, &m2); err != nil || m2.Output[0] != want {
		t.Fatalf("round trip: %+v %v", m2.Output, err)
	}
}

func TestSinceParam(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2026, 3, 1, 12, 0, 0, 999_999, time.UTC):                        "2026-03-01T12:00:00.000+00:00",
		time.Date(2026, 3, 1, 12, 0, 0, 123_456_789, time.FixedZone("", -5*3600)): "2026-03-01T12:00:00.123-05:00",
	} {
		if got := export.SinceParam(in); got != want {
			t.Errorf("SinceParam(%v) = %s, want %s", in, got, want)
		}
	}
}

func TestKickOffURL(t *testing.T) {
	c := export.New("https://x/api/v1/", nil)
	since := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("EST", -5*3600))
	got := c.KickOffURL(export.Request{GroupID: "g1", Types: []string{"Patient", "Coverage"}, Since: since, OutputFormat: "application/fhir+ndjson"})
	want := "https://x/api/v1/Group/g1/$export?_outputFormat=application%2Ffhir%2Bndjson&_since=2026-03-01T12%3A00%3A00.000-05%3A00&_type=Patient%2CCoverage"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Run kicks off, polls to completion, saves the manifest; a second Run joins
// the same job without a second kick-off.
func TestRunAndRejoin(t *testing.T) {
	sb := sandboxtest.Start(t, 12, dpctest.WithJobDuration(time.Second))
	dir := t.TempDir()
	var mu sync.Mutex
	var events []extract.Event
	c := client(sb, export.WithProgress(func(e extract.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	req := export.Request{GroupID: sb.GroupID, Types: []string{"Patient", "ExplanationOfBenefit"}}
	job, err := c.Run(context.Background(), dir, req)
	if err != nil {
		t.Fatal(err)
	}
	if job.Rejoined || job.Manifest == nil || len(job.Manifest.Output) == 0 {
		t.Fatalf("job %+v", job)
	}
	for _, o := range job.Manifest.Output {
		if o.Type != "Patient" && o.Type != "ExplanationOfBenefit" {
			t.Errorf("unexpected type %s", o.Type)
		}
		if !strings.HasPrefix(o.Checksum, "sha256:") || len(o.Checksum) != 71 || o.FileLength <= 0 || o.Count <= 0 {
			t.Errorf("output lacks checksum/length/count: %+v", o)
		}
	}
	st, err := export.LoadState(dir, sb.GroupID)
	if err != nil || st == nil || st.Manifest == nil || st.JobURL != job.URL || st.Expires.IsZero() {
		t.Fatalf("state %+v %v", st, err)
	}
	mu.Lock()
	var sawProgress, sawKick bool
	for _, e := range events {
		sawKick = sawKick || e.Kind == extract.EventJobKickOff
		sawProgress = sawProgress || (e.Kind == extract.EventJobProgress && e.Percent >= 0 && e.Status != "")
	}
	mu.Unlock()
	if !sawKick || !sawProgress {
		t.Errorf("events lack kick-off or progress: %+v", events)
	}
	job2, err := c.Run(context.Background(), dir, req)
	if err != nil {
		t.Fatal(err)
	}
	if !job2.Rejoined || job2.URL != job.URL {
		t.Fatalf("rerun did not join job %s: %+v", job.URL, job2)
	}
	if n := sb.Srv.Requests("/api/v1/Group/"); n != 1 {
		t.Fatalf("%d kick-offs, want 1", n)
	}
	// A different request is a different job.
	job3, err := c.Run(context.Background(), dir, export.Request{GroupID: sb.GroupID, Types: []string{"Coverage"}, Since: time.Now().UTC().Add(-2 * 365 * 24 * time.Hour)})
	if err != nil || job3.Rejoined || job3.URL == job.URL {
		t.Fatalf("different request joined the old job: %+v %v", job3, err)
	}
}

// A run killed while the job is still running rejoins it (still running) on rerun.
func TestRejoinRunningJob(t *testing.T) {
	sb := sandboxtest.Start(t, 5, dpctest.WithJobDuration(1500*time.Millisecond))
	dir := t.TempDir()
	req := export.Request{GroupID: sb.GroupID}
	// Killed at the first progress answer: the job is running, the state saved.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := client(sb, export.WithProgress(func(e extract.Event) {
		if e.Kind == extract.EventJobProgress {
			cancel()
		}
	}))
	if _, err := c.Run(ctx, dir, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	st, _ := export.LoadState(dir, sb.GroupID)
	if st == nil || st.Manifest != nil {
		t.Fatalf("state after kill: %+v", st)
	}
	job, err := client(sb).Run(context.Background(), dir, req)
	if err != nil || !job.Rejoined || job.URL != st.JobURL {
		t.Fatalf("rerun: %+v %v", job, err)
	}
	if n := sb.Srv.Requests("/api/v1/Group/"); n != 1 {
		t.Fatalf("%d kick-offs, want 1", n)
	}
}

func TestKickOffErrors(t *testing.T) {
	sb := sandboxtest.Start(t, 3)
	c := client(sb)
	empty := sandboxtest.Start(t, 0)
	bad := sb.Cred
	bad.KeyID = "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name string
		c    *export.Client
		req  export.Request
		want error
	}{
		{"unknown type", c, export.Request{GroupID: sb.GroupID, Types: []string{"Observation"}}, export.ErrBadRequest},
		{"future since", c, export.Request{GroupID: sb.GroupID, Since: time.Now().Add(48 * time.Hour)}, export.ErrBadRequest},
		{"empty group", client(empty), export.Request{GroupID: empty.GroupID}, export.ErrEmptyGroup},
		{"bad credentials", export.New(sb.Srv.BaseURL(), &http.Client{Transport: auth.NewTokenSource(bad).Transport(nil)}, fast...), export.Request{GroupID: sb.GroupID}, extract.ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.KickOff(context.Background(), tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(err, extract.ErrRetryable) {
				t.Fatalf("%v must not be retryable", err)
			}
		})
	}
}

// 429 (with and without Retry-After) and 5xx bursts on kick-off and polling
// are retried; the job still completes, and the shared limiter slowed down.
func TestTransientFaults(t *testing.T) {
	tests := []struct {
		name  string
		rules []dpctest.Fault
		min   time.Duration
	}{
		{"429 retry-after", []dpctest.Fault{{Kind: dpctest.FaultTooManyRequests, Path: "/Group/", Count: 1, RetryAfter: time.Second}}, time.Second},
		{"429 no retry-after", []dpctest.Fault{{Kind: dpctest.FaultTooManyRequests, Path: "/Group/", Count: 2}}, 0},
		{"500 burst on jobs", []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Jobs/", Count: 3}}, 0},
		{"503 on kick-off", []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Group/", Count: 2}}, 0},
		{"reset on jobs", []dpctest.Fault{{Kind: dpctest.FaultReset, Path: "/Jobs/", Count: 2}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := sandboxtest.Start(t, 3, dpctest.WithJobDuration(100*time.Millisecond), dpctest.WithFaults(dpctest.Faults{Rules: tc.rules}))
			lim := retry.NewLimiter(10*time.Millisecond, 100*time.Millisecond)
			start := time.Now()
			job, err := client(sb, export.WithLimiter(lim)).Run(context.Background(), t.TempDir(), export.Request{GroupID: sb.GroupID})
			if err != nil {
				t.Fatal(err)
			}
			if len(job.Manifest.Output) == 0 {
				t.Fatal("empty manifest")
			}
			if el := time.Since(start); el < tc.min {
				t.Fatalf("finished in %s: Retry-After %s not honoured", el, tc.min)
			}
		})
	}
}

// A job poll answered 202 with Retry-After: 1 is not asked again for a second,
// however short the client's own poll backoff (20–100 ms here); without the
// header the same job is polled many times more.
func TestPollHonoursRetryAfter(t *testing.T) {
	for _, ra := range []time.Duration{time.Second, 0} {
		t.Run(fmt.Sprintf("retry-after=%s", ra), func(t *testing.T) {
			t.Parallel()
			sb := sandboxtest.Start(t, 3, dpctest.WithJobDuration(2200*time.Millisecond), dpctest.WithJobRetryAfter(ra))
			var mu sync.Mutex
			var polls []time.Time
			c := client(sb, export.WithProgress(func(e extract.Event) {
				if e.Kind == extract.EventJobProgress {
					mu.Lock()
					polls = append(polls, time.Now())
					mu.Unlock()
				}
			}))
			start := time.Now()
			job, err := c.Run(context.Background(), t.TempDir(), export.Request{GroupID: sb.GroupID})
			if err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			if len(job.Manifest.Output) == 0 || el < 2200*time.Millisecond {
				t.Fatalf("job done in %s with %d outputs", el, len(job.Manifest.Output))
			}
			n := sb.Srv.Requests("/api/v1/Jobs/")
			mu.Lock()
			defer mu.Unlock()
			if len(polls) != n-1 {
				t.Fatalf("%d progress events for %d polls (the last is the 200)", len(polls), n)
			}
			if ra == 0 {
				if n < 10 {
					t.Fatalf("%d polls over %s without Retry-After: the backoff baseline is wrong", n, el)
				}
				return
			}
			// 2.2 s of job at one poll a second: polls at about 0, 1, 2 and 3 s.
			if n < 3 || n > 4 {
				t.Fatalf("%d polls over %s with Retry-After: 1, want 3 or 4", n, el)
			}
			for i := 1; i < len(polls); i++ {
				if gap := polls[i].Sub(polls[i-1]); gap < 950*time.Millisecond {
					t.Fatalf("poll %d came %s after the previous one, Retry-After asked for 1s", i+1, gap)
				}
			}
		})
	}
}

func TestJobFailed(t *testing.T) {
	sb := sandboxtest.Start(t, 3, dpctest.WithJobDuration(time.Second),
		dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultJobFailed, Path: "/Jobs/"}}}))
	dir := t.TempDir()
	_, err := client(sb).Run(context.Background(), dir, export.Request{GroupID: sb.GroupID})
	if !errors.Is(err, export.ErrJobFailed) {
		t.Fatalf("err = %v, want ErrJobFailed", err)
	}
	if st, _ := export.LoadState(dir, sb.GroupID); st != nil {
		t.Fatal("a failed job stays in the state file: a rerun would rejoin it")
	}
}

func TestJobExpired(t *testing.T) {
	sb := sandboxtest.Start(t, 3, dpctest.WithJobDuration(50*time.Millisecond))
	dir := t.TempDir()
	c := client(sb)
	job, err := c.Run(context.Background(), dir, export.Request{GroupID: sb.GroupID})
	if err != nil {
		t.Fatal(err)
	}
	sb.Srv.Clock().Advance(25 * time.Hour)
	_, err = c.Status(context.Background(), job.URL)
	if !errors.Is(err, export.ErrJobExpired) || !strings.Contains(err.Error(), "new export") {
		t.Fatalf("err = %v, want ErrJobExpired", err)
	}
	// A saved, completed job whose Expires has passed is not joined.
	st, _ := export.LoadState(dir, sb.GroupID)
	st.Expires = time.Now().Add(-time.Minute)
	if err := export.SaveState(dir, st); err != nil {
		t.Fatal(err)
	}
	job2, err := c.Run(context.Background(), dir, export.Request{GroupID: sb.GroupID})
	if err != nil || job2.Rejoined || job2.URL == job.URL {
		t.Fatalf("expired job joined: %+v %v", job2, err)
	}
}

// The deadline ends polling with ErrDeadline; the job is left for a rerun to
// rejoin (DPC has no DELETE on /Jobs).
func TestDeadline(t *testing.T) {
	sb := sandboxtest.Start(t, 3, dpctest.WithJobDuration(time.Minute))
	c := client(sb, export.WithDeadline(300*time.Millisecond))
	dir := t.TempDir()
	_, err := c.Run(context.Background(), dir, export.Request{GroupID: sb.GroupID})
	if !errors.Is(err, export.ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	saved, lerr := export.LoadState(dir, sb.GroupID)
	if lerr != nil || saved == nil {
		t.Fatalf("no saved job: %v", lerr)
	}
	if n := sb.Srv.Requests("/api/v1/Jobs/"); n == 0 {
		t.Fatal("never polled")
	}
	// The rerun rejoins the job that is still running instead of starting another.
	c2 := client(sb, export.WithDeadline(300*time.Millisecond))
	if _, err := c2.Run(context.Background(), dir, export.Request{GroupID: sb.GroupID}); !errors.Is(err, export.ErrDeadline) {
		t.Fatalf("rerun: %v", err)
	}
	again, _ := export.LoadState(dir, sb.GroupID)
	if again == nil || again.JobURL != saved.JobURL {
		t.Fatalf("rerun started another job: %+v", again)
	}
}

func TestStateAtomic(t *testing.T) {
	dir := t.TempDir()
	s := &export.State{JobURL: "http://127.0.0.1/api/v1/Jobs/1", GroupID: "g/../1", KickOff: time.Now().UTC()}
	if err := export.SaveState(dir, s); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || filepath.Dir(export.StatePath(dir, s.GroupID)) != dir {
		t.Fatalf("state dir holds %v", ents)
	}
	got, err := export.LoadState(dir, s.GroupID)
	if err != nil || got.JobURL != s.JobURL {
		t.Fatalf("%+v %v", got, err)
	}
	os.WriteFile(export.StatePath(dir, "x"), []byte("{"), 0o600)
	if _, err := export.LoadState(dir, "x"); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("corrupt state: %v", err)
	}
}

func ExampleParseProgress() {
	state, pct, ok := export.ParseProgress("RUNNING: 45.50%")
	fmt.Println(state, pct, ok)
	// Output: RUNNING 45.5 true
}

// Against DPC (no DELETE on /Jobs) giving up on a job sends no DELETE: the job
// is left to run out, and a rerun rejoins it.
func TestAbortSendsNoDeleteToDPC(t *testing.T) {
	sb := sandboxtest.Start(t, 3, dpctest.WithJobDuration(time.Minute))
	c := client(sb, export.WithDeadline(200*time.Millisecond))
	_, err := c.Run(context.Background(), t.TempDir(), export.Request{GroupID: sb.GroupID})
	// No text check for "405": the sandbox's port can contain it; the DELETE count below is the proof.
	if !errors.Is(err, export.ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	if n := sb.Srv.RequestsByMethod(http.MethodDelete, "/api/v1/Jobs/"); n != 0 {
		t.Fatalf("%d DELETEs on /Jobs, want none", n)
	}
}
