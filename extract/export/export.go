// Package export runs DPC Group $export jobs: kick-off, polling with backoff
// and a deadline, and a state file so that a rerun rejoins the same job.
package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/retry"
)

// Typed errors of the export lifecycle. Each is wrapped with the details.
var (
	ErrBadRequest        = errors.New("export request refused (400)")
	ErrEmptyGroup        = errors.New("group has no active members (406)")
	ErrUnsupportedFormat = errors.New("server refused the request's media type (415)")
	ErrJobExpired        = errors.New("export job expired (410): its files are gone; a new export is needed")
	ErrJobNotFound       = errors.New("export job not found (404)")
	ErrJobFailed         = errors.New("export job failed on the server")
	ErrDeadline          = errors.New("export job did not finish before the deadline")
)

// Request is what to export.
type Request struct {
	GroupID      string
	Types        []string  // Patient, Coverage, ExplanationOfBenefit; empty = all
	Since        time.Time // zero = everything
	OutputFormat string    // empty = server default (application/fhir+ndjson)
}

// Status is one answer of the job endpoint.
type Status struct {
	Done     bool
	State    string  // QUEUED, RUNNING, ... from X-Progress ("" if absent)
	Percent  float64 // from X-Progress, -1 if absent
	Manifest *Manifest
	Expires  time.Time // from Expires on a completed job, zero if absent

	retryAfter time.Duration
}

// Client talks to the export endpoints. Its http.Client normally comes from
// auth.TokenSource.Transport, so it carries the bearer.
type Client struct {
	base     string
	hc       *http.Client
	policy   retry.Policy
	poll     retry.Policy
	limiter  *retry.Limiter
	deadline time.Duration
	progress extract.Progress
	cancelOn bool
	now      func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithRetry sets the retry policy for failed requests (the same policy the
// downloads use; default retry.Default()).
func WithRetry(p retry.Policy) Option { return func(c *Client) { c.policy = p } }

// WithPollBackoff sets the polling schedule used when the server sends no
// Retry-After (DPC never does): Base doubling to Max with Jitter. MaxAttempts
// is ignored; the deadline bounds polling. Default 1s doubling to 20s.
func WithPollBackoff(p retry.Policy) Option { return func(c *Client) { c.poll = p } }

// WithLimiter shares a rate limiter with the downloads (slows everyone after a 429).
func WithLimiter(l *retry.Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithDeadline bounds the time from kick-off (or rejoin) to completion (default 6h).
func WithDeadline(d time.Duration) Option { return func(c *Client) { c.deadline = d } }

// WithProgress receives job events.
func WithProgress(p extract.Progress) Option { return func(c *Client) { c.progress = p } }

// WithCancelOnAbort makes Wait send DELETE for the job when it gives up (off by default:
// DPC answers DELETE on a job with 405)
// (deadline or cancelled context), so the server stops working on it.
func WithCancelOnAbort(on bool) Option { return func(c *Client) { c.cancelOn = on } }

// WithClock sets the clock used for Retry-After dates (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for the API at baseURL (…/api/v1).
func New(baseURL string, hc *http.Client, opts ...Option) *Client {
	c := &Client{
		base:     strings.TrimRight(baseURL, "/"),
		hc:       hc,
		policy:   retry.Default(),
		poll:     retry.Policy{Base: time.Second, Max: 20 * time.Second, Jitter: 0.2},
		deadline: 6 * time.Hour,
		now:      time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	return c
}

// KickOffURL is the $export URL for r.
func (c *Client) KickOffURL(r Request) string {
	q := url.Values{}
	if len(r.Types) > 0 {
		q.Set("_type", strings.Join(r.Types, ","))
	}
	if !r.Since.IsZero() {
		q.Set("_since", SinceParam(r.Since))
	}
	if r.OutputFormat != "" {
		q.Set("_outputFormat", r.OutputFormat)
	}
	u := c.base + "/Group/" + url.PathEscape(r.GroupID) + "/$export"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// SinceParam formats _since as DPC wants it: an instant with an explicit
// numeric offset ("+00:00", never "Z"), in milliseconds. Sub-millisecond
// parts are truncated, which moves _since earlier: at worst a resource is
// exported twice, never missed.
func SinceParam(t time.Time) string {
	return t.Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000-07:00")
}

// KickOff starts an export job and returns the job status URL
// (Content-Location). Retryable failures are retried per the policy.
func (c *Client) KickOff(ctx context.Context, r Request) (string, error) {
	if r.GroupID == "" {
		return "", fmt.Errorf("export: kick-off: no group id: %w", ErrBadRequest)
	}
	u := c.KickOffURL(r)
	var jobURL string
	err := c.do(ctx, "export kick-off", http.MethodGet, u, func(h http.Header) {
		h.Set("Accept", "application/fhir+json")
		h.Set("Prefer", "respond-async")
	}, func(resp *http.Response, body []byte) (bool, error) {
		switch resp.StatusCode {
		case http.StatusAccepted:
			loc := resp.Header.Get("Content-Location")
			if loc == "" {
				return true, fmt.Errorf("export: kick-off %s: 202 without Content-Location", u)
			}
			ref, err := url.Parse(u)
			if err != nil {
				return true, err
			}
			l, err := ref.Parse(loc)
			if err != nil {
				return true, fmt.Errorf("export: kick-off %s: bad Content-Location %q", u, loc)
			}
			jobURL = l.String()
			return true, nil
		case http.StatusBadRequest:
			return true, fmt.Errorf("export: kick-off %s: %s: %w", u, msg(body), ErrBadRequest)
		case http.StatusNotAcceptable:
			return true, fmt.Errorf("export: kick-off group %s: %s: %w", r.GroupID, msg(body), ErrEmptyGroup)
		case http.StatusUnsupportedMediaType:
			return true, fmt.Errorf("export: kick-off %s: %s: %w", u, msg(body), ErrUnsupportedFormat)
		}
		return false, nil
	})
	if err != nil {
		return "", err
	}
	c.progress.Emit(extract.Event{Kind: extract.EventJobKickOff, JobID: JobID(jobURL), URL: jobURL})
	return jobURL, nil
}

// JobID is the last path element of a job URL.
func JobID(jobURL string) string {
	if u, err := url.Parse(jobURL); err == nil {
		return path.Base(u.Path)
	}
	return path.Base(jobURL)
}

// Status asks the job endpoint once (retrying transient failures).
func (c *Client) Status(ctx context.Context, jobURL string) (Status, error) {
	var st Status
	err := c.do(ctx, "job status", http.MethodGet, jobURL, func(h http.Header) {
		h.Set("Accept", "application/json")
	}, func(resp *http.Response, body []byte) (bool, error) {
		switch resp.StatusCode {
		case http.StatusOK:
			var m Manifest
			if err := json.Unmarshal(body, &m); err != nil {
				return true, fmt.Errorf("export: job %s: manifest: %w", jobURL, err)
			}
			st = Status{Done: true, State: "COMPLETED", Percent: 100, Manifest: &m}
			if t, err := http.ParseTime(resp.Header.Get("Expires")); err == nil {
				st.Expires = t
			}
			return true, nil
		case http.StatusAccepted:
			st = Status{Percent: -1}
			st.State, st.Percent, _ = ParseProgress(resp.Header.Get("X-Progress"))
			st.retryAfter, _ = retry.RetryAfter(resp.Header.Get("Retry-After"), c.now())
			return true, nil
		case http.StatusGone:
			return true, fmt.Errorf("export: job %s: %w", jobURL, ErrJobExpired)
		case http.StatusNotFound:
			return true, fmt.Errorf("export: job %s: %w", jobURL, ErrJobNotFound)
		}
		return false, nil
	})
	return st, err
}

var progressRE = regexp.MustCompile(`^\s*([A-Za-z_]+)\s*:\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$`)

// ParseProgress parses an X-Progress value such as "RUNNING: 45.50%" into
// ("RUNNING", 45.5). Values without a percentage give the state and -1.
func ParseProgress(v string) (state string, percent float64, ok bool) {
	m := progressRE.FindStringSubmatch(v)
	if m == nil {
		s := strings.TrimSpace(v)
		if i := strings.IndexByte(s, ':'); i >= 0 {
			s = strings.TrimSpace(s[:i])
		}
		return s, -1, false
	}
	p, err := strconv.ParseFloat(m[2], 64)
	if err != nil || p > 100 {
		return m[1], -1, false
	}
	return strings.ToUpper(m[1]), p, true
}

// Wait polls the job until it completes, the deadline passes or ctx ends.
// Retry-After is honoured when the server sends it; otherwise polling backs
// off exponentially (with jitter) up to the poll cap.
func (c *Client) Wait(ctx context.Context, jobURL string) (*Manifest, error) {
	m, _, err := c.wait(ctx, jobURL)
	return m, err
}

func (c *Client) wait(ctx context.Context, jobURL string) (*Manifest, time.Time, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.deadline, ErrDeadline)
	defer cancel()
	id := JobID(jobURL)
	for n := 1; ; n++ {
		st, err := c.Status(ctx, jobURL)
		if err != nil {
			return nil, time.Time{}, c.abort(ctx, jobURL, err)
		}
		if st.Done {
			c.progress.Emit(extract.Event{Kind: extract.EventJobComplete, JobID: id, URL: jobURL, Percent: 100, Status: st.State})
			return st.Manifest, st.Expires, nil
		}
		c.progress.Emit(extract.Event{Kind: extract.EventJobProgress, JobID: id, URL: jobURL, Percent: st.Percent, Status: st.State})
		d := st.retryAfter
		if d <= 0 {
			d = c.poll.Backoff(n)
		}
		if err := retry.Sleep(ctx, d); err != nil {
			return nil, time.Time{}, c.abort(ctx, jobURL, err)
		}
	}
}

func (c *Client) abort(ctx context.Context, jobURL string, err error) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrDeadline) {
			err = fmt.Errorf("export: job %s: %w after %s", jobURL, ErrDeadline, c.deadline)
		}
		if c.cancelOn {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if derr := c.Cancel(dctx, jobURL); derr != nil {
				err = errors.Join(err, derr)
			}
		}
	}
	return err
}

// Cancel deletes the job on the server. DPC has no DELETE on /Jobs (405, JobResource has
// only GET): that answer ends the attempt quietly, the job runs out on its own.
func (c *Client) Cancel(ctx context.Context, jobURL string) error {
	return c.do(ctx, "job cancel", http.MethodDelete, jobURL, nil, func(resp *http.Response, body []byte) (bool, error) {
		switch resp.StatusCode {
		case http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusNotFound, http.StatusGone, http.StatusMethodNotAllowed:
			return true, nil
		}
		return false, nil
	})
}

// do sends one request with the shared retry policy and limiter. handle
// decides the statuses it knows (handled=true); anything else that is
// retryable (429, 5xx, network) is retried, the rest becomes a StatusError.
func (c *Client) do(ctx context.Context, op, method, u string, hdr func(http.Header), handle func(*http.Response, []byte) (bool, error)) error {
	attempts := c.policy.Attempts()
	var last error
	for n := 1; n <= attempts; n++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return errors.Join(last, err)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return fmt.Errorf("export: %s: %w", op, err)
		}
		if hdr != nil {
			hdr(req.Header)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if errors.Is(err, extract.ErrAuth) {
				return err
			}
			last = fmt.Errorf("export: %s %s: %w: %w", op, u, err, extract.ErrRetryable)
			if n < attempts {
				if err := retry.Sleep(ctx, c.policy.Backoff(n)); err != nil {
					return errors.Join(last, err)
				}
			}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if rerr == nil {
			if handled, herr := handle(resp, body); handled {
				c.limiter.Succeeded()
				return herr
			}
		}
		se := &retry.StatusError{Op: "export: " + op, URL: u, Status: resp.StatusCode, Body: msg(body)}
		if rerr != nil {
			last = fmt.Errorf("export: %s %s: reading body: %w: %w", op, u, rerr, extract.ErrRetryable)
		} else if !retry.Retryable(resp.StatusCode) {
			return se
		} else {
			last = se
		}
		wait := c.policy.Wait(n, resp, c.now())
		if resp.StatusCode == http.StatusTooManyRequests {
			c.limiter.Throttled(wait)
		}
		if n < attempts {
			if err := retry.Sleep(ctx, wait); err != nil {
				return errors.Join(last, err)
			}
		}
	}
	if strings.HasPrefix(op, "job status") {
		var se *retry.StatusError
		if errors.As(last, &se) && se.Status >= 500 {
			return fmt.Errorf("%w: %w", ErrJobFailed, last)
		}
	}
	return last
}

// msg is the start of a server message, for errors. Server messages from DPC
// are plain JSON or OperationOutcomes and carry no credentials.
func msg(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
