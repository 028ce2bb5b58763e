// Package export runs Bulk Data $export jobs (Group, Patient, system): kick-off, polling
// with backoff and a deadline, and a state file so that a rerun rejoins the same job.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/scrub"
)

// Typed errors of the export lifecycle. Each is wrapped with the details.
var (
	ErrBadRequest        = errors.New("export request refused (400/404/422)")
	ErrEmptyGroup        = errors.New("group has no active members (406)")
	ErrUnsupportedFormat = errors.New("server refused the request's media type (415)")
	ErrJobExpired        = errors.New("export job expired (410): its files are gone; a new export is needed")
	ErrJobNotFound       = errors.New("export job not found (404)")
	ErrJobFailed         = errors.New("export job failed on the server")
	ErrDeadline          = errors.New("export job did not finish before the deadline")
)

// Level is the scope of an export: one Group, all Patients, or the whole system.
type Level string

// Export levels (Bulk Data IG kick-off endpoints).
const (
	LevelGroup   Level = "group"   // [base]/Group/{id}/$export; the default
	LevelPatient Level = "patient" // [base]/Patient/$export
	LevelSystem  Level = "system"  // [base]/$export
)

// Request is what to export.
type Request struct {
	Level                 Level     // empty = LevelGroup
	GroupID               string    // LevelGroup only
	Types                 []string  // _type: Patient, Coverage, ExplanationOfBenefit; empty = all
	Since                 time.Time // zero = everything
	OutputFormat          string    // empty = server default (application/fhir+ndjson)
	TypeFilter            []string  // _typeFilter, one parameter each ("Type?search")
	Elements              []string  // _elements
	IncludeAssociatedData []string  // includeAssociatedData values
}

// level is r's level with the default filled in.
func (r Request) level() Level {
	if r.Level == "" {
		return LevelGroup
	}
	return r.Level
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
	base       string
	hc         *http.Client
	policy     retry.Policy
	poll       retry.Policy
	limiter    *retry.Limiter
	deadline   time.Duration
	progress   extract.Progress
	reqTimeout time.Duration
	now        func() time.Time
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

// WithRequestTimeout bounds one request, body included (default 2 minutes).
func WithRequestTimeout(d time.Duration) Option { return func(c *Client) { c.reqTimeout = d } }

// WithClock sets the clock used for Retry-After dates (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for the API at baseURL (…/api/v1).
func New(baseURL string, hc *http.Client, opts ...Option) *Client {
	c := &Client{
		base:       strings.TrimRight(baseURL, "/"),
		hc:         hc,
		policy:     retry.Default(),
		poll:       retry.Policy{Base: time.Second, Max: 20 * time.Second, Jitter: 0.2},
		deadline:   6 * time.Hour,
		reqTimeout: 2 * time.Minute,
		now:        time.Now,
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
	if len(r.TypeFilter) > 0 {
		q["_typeFilter"] = r.TypeFilter
	}
	if len(r.Elements) > 0 {
		q.Set("_elements", strings.Join(r.Elements, ","))
	}
	if len(r.IncludeAssociatedData) > 0 {
		q.Set("includeAssociatedData", strings.Join(r.IncludeAssociatedData, ","))
	}
	u := c.base + "/$export"
	switch r.level() {
	case LevelGroup:
		u = c.base + "/Group/" + url.PathEscape(r.GroupID) + "/$export"
	case LevelPatient:
		u = c.base + "/Patient/$export"
	}
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
	if (r.level() == LevelGroup) != (r.GroupID != "") {
		return "", fmt.Errorf("export: kick-off: a group id goes with (only) the group level, got level %q and group id %q: %w", r.level(), r.GroupID, ErrBadRequest)
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
			if err := extract.CheckName("job id", JobID(l.String())); err != nil {
				// The answer is unusable, like a 5xx: a new kick-off may do better.
				return true, fmt.Errorf("export: kick-off %s: Content-Location %q: %w (%w)", u, loc, err, extract.ErrRetryable)
			}
			jobURL = l.String()
			return true, nil
		case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
			// 404: no such group (or not this organization's); a retry cannot fix either.
			return true, fmt.Errorf("export: kick-off %s: HTTP %d: %s: %w", u, resp.StatusCode, scrub.Body(body), ErrBadRequest)
		case http.StatusNotAcceptable:
			return true, fmt.Errorf("export: kick-off group %s: %s: %w", r.GroupID, scrub.Body(body), ErrEmptyGroup)
		case http.StatusUnsupportedMediaType:
			return true, fmt.Errorf("export: kick-off %s: %s: %w", u, scrub.Body(body), ErrUnsupportedFormat)
		}
		return false, nil
	})
	if err != nil {
		return "", err
	}
	c.progress.Emit(extract.Event{Kind: extract.EventJobKickOff, JobID: JobID(jobURL), URL: jobURL})
	return jobURL, nil
}

// JobID is the last element of a job URL's path that is not an operation
// (AB2D's ".../Job/{id}/$status"), unescaped ("%2e%2e" is "..", "a%2fb" is
// "a/b"): check it with extract.CheckName before using it in a path.
func JobID(jobURL string) string {
	p := jobURL
	if u, err := url.Parse(jobURL); err == nil {
		p = u.EscapedPath()
	}
	if i := strings.LastIndexByte(p, '/'); i > 0 && strings.HasPrefix(p[i+1:], "$") {
		p = p[:i]
	}
	seg := p[strings.LastIndexByte(p, '/')+1:]
	if id, err := url.PathUnescape(seg); err == nil {
		return id
	}
	return seg
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
			if err := ParseManifest(body, &m); err != nil {
				return true, fmt.Errorf("export: job %s: manifest: %w", jobURL, err)
			}
			st = Status{Done: true, State: "COMPLETED", Percent: 100, Manifest: &m, Expires: ParseExpires(resp.Header.Get("Expires"))}
			return true, nil
		case http.StatusAccepted, http.StatusTooManyRequests:
			// A 429 on a poll is the Bulk IG's (and AB2D's) "too early": wait, do not fail.
			st = Status{Percent: -1}
			st.State, st.Percent, _ = ParseProgress(resp.Header.Get("X-Progress"))
			if resp.StatusCode == http.StatusTooManyRequests {
				st.State = "THROTTLED"
			}
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

var progressRE = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?)\s*%`)

// ParseProgress reads X-Progress, which the Bulk IG leaves free text: DPC's
// "RUNNING: 45.50%" gives ("RUNNING", 45.5), BCDA's "In Progress (45%)"
// ("IN PROGRESS", 45), AB2D's "45% complete" ("", 45), "Pending" ("PENDING",
// -1). The state is the upper-cased words before the percentage.
func ParseProgress(v string) (state string, percent float64, ok bool) {
	loc := progressRE.FindStringSubmatchIndex(v)
	if loc == nil {
		s, _, _ := strings.Cut(v, ":")
		return strings.ToUpper(strings.TrimSpace(s)), -1, false
	}
	state = strings.ToUpper(strings.Trim(v[:loc[0]], " \t:("))
	p, err := strconv.ParseFloat(v[loc[2]:loc[3]], 64)
	if err != nil || p > 100 {
		return state, -1, false
	}
	return state, p, true
}

// ParseExpires reads a completed job's Expires: an HTTP date, or BCDA's Go
// time.String() form ("2026-12-03 02:30:00.123 +0000 UTC m=+86400.1");
// zero when absent or unreadable (the job is then joined until the server
// says 410).
func ParseExpires(v string) time.Time {
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	v, _, _ = strings.Cut(v, " m=")
	t, _ := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", v)
	return t
}

// wait polls the job until it completes, the deadline passes or ctx ends.
// Retry-After is honoured when the server sends it; otherwise polling backs
// off exponentially (with jitter) up to the poll cap.
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

// abort names the deadline when it ended polling. The job is left alone: DPC
// has no DELETE on /Jobs (405), and a rerun rejoins it.
func (c *Client) abort(ctx context.Context, jobURL string, err error) error {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrDeadline) {
		return fmt.Errorf("export: job %s: %w after %s", jobURL, ErrDeadline, c.deadline)
	}
	return err
}

// maxBody bounds a job status or error body: a manifest of 100,000 files is about 30 MiB.
const maxBody = 64 << 20

// do sends one request with the shared retry policy and limiter. handle
// decides the statuses it knows (handled=true); anything else that is
// retryable (429, 5xx, network) is retried, the rest becomes a StatusError.
// Each try is bounded by the request timeout, so a server that answers
// slowly or never finishes its body cannot hold the run.
func (c *Client) do(ctx context.Context, op, method, u string, hdr func(http.Header), handle func(*http.Response, []byte) (bool, error)) error {
	p := c.policy
	p.Now = c.now
	err := retry.Do(ctx, p, c.limiter, func(int) retry.Attempt {
		actx, cancel := context.WithTimeout(ctx, c.reqTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(actx, method, u, nil)
		if err != nil {
			return retry.Attempt{Err: fmt.Errorf("export: %s: %w", op, err)}
		}
		if hdr != nil {
			hdr(req.Header)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, extract.ErrAuth) {
				return retry.Attempt{Err: err}
			}
			return retry.Attempt{Err: fmt.Errorf("export: %s %s: %w: %w", op, u, err, extract.ErrRetryable)}
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		switch {
		case err != nil:
			return retry.Attempt{Resp: resp, Err: fmt.Errorf("export: %s %s: reading body: %w: %w", op, u, err, extract.ErrRetryable)}
		case len(body) > maxBody:
			return retry.Attempt{Resp: resp, Err: fmt.Errorf("export: %s %s: HTTP %d body is larger than %d MiB: refused", op, u, resp.StatusCode, maxBody>>20)}
		}
		if handled, herr := handle(resp, body); handled {
			if herr != nil {
				herr = retry.Stop(herr)
			}
			return retry.Attempt{Resp: resp, Err: herr}
		}
		return retry.Attempt{Resp: resp, Err: &retry.StatusError{Op: "export: " + op, URL: u, Status: resp.StatusCode, Body: scrub.Body(body)}}
	})
	var se *retry.StatusError
	if strings.HasPrefix(op, "job status") && errors.As(err, &se) && se.Status >= 500 {
		return fmt.Errorf("%w: %w", ErrJobFailed, err)
	}
	return err
}
