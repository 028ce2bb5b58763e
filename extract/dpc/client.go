// Package dpc is the typed client for DPC's administrative API: organization, keys, client tokens,
// practitioners, patients, attestation and attribution groups.
package dpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/retry"
)

// Client talks to one DPC API base URL (e.g. https://sandbox.dpc.cms.gov/api/v1). It adds no
// credentials itself: the http.Client it is given does (usually auth.TokenSource.Transport).
type Client struct {
	base     *url.URL
	hc       *http.Client
	pageSize int
	now      func() time.Time
	retry    retry.Policy
	limiter  *retry.Limiter
	// synthetic allows sandbox MBIs (SyntheticMBI); the caller says so, never for production.
	synthetic bool
}

// Option configures a Client.
type Option func(*Client)

// WithPageSize sets the _count used when listing patients and practitioners (default 100).
func WithPageSize(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.pageSize = n
		}
	}
}

// WithRetry retries failed requests under p when that is safe: 429, 5xx and network errors,
// for reads and idempotent changes always, for creates only when the server cannot have acted
// (429, 503, connection refused). Without it every failure is returned at once.
func WithRetry(p retry.Policy) Option { return func(c *Client) { c.retry = p } }

// WithLimiter shares a rate limiter (429 back-off) with other clients of the same server.
func WithLimiter(l *retry.Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithSyntheticMBIs also accepts the sandbox's synthetic MBIs (SyntheticMBI), which break the
// MBI specification on purpose. It has no effect against DPC production, where only real MBIs exist.
func WithSyntheticMBIs() Option { return func(c *Client) { c.synthetic = true } }

// WithNow sets the clock used for attestation timestamps (default time.Now).
func WithNow(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a client for baseURL. A nil httpClient means http.DefaultClient, which only
// works for the unauthenticated endpoints (/Token/validate).
func New(baseURL string, httpClient *http.Client, opts ...Option) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		// Keep New infallible (as the contract has it); every request then fails with this error.
		u = &url.URL{Scheme: "invalid", Opaque: baseURL}
	}
	c := &Client{base: u, hc: httpClient, pageSize: 100, now: time.Now, retry: retry.Policy{MaxAttempts: 1}}
	for _, o := range opts {
		o(c)
	}
	c.synthetic = c.synthetic && !IsProduction(u.String())
	return c
}

// IsProduction reports whether baseURL is DPC's production API, where only real MBIs exist.
func IsProduction(baseURL string) bool {
	u, err := url.Parse(baseURL)
	return err == nil && strings.EqualFold(u.Hostname(), "api.dpc.cms.gov")
}

// validateMBI checks an MBI strictly, or also accepting synthetic ones (WithSyntheticMBIs).
func (c *Client) validateMBI(mbi string) error {
	if c.synthetic {
		return ValidateMBIOrSynthetic(mbi)
	}
	return ValidateMBI(mbi)
}

type request struct {
	method  string
	path    string // relative to base, starting with "/"; or an absolute URL on the same host
	query   url.Values
	body    any    // JSON-encoded when not nil
	rawBody []byte // sent as-is when not nil
	ctype   string
	accept  string
	header  http.Header
}

// do sends r and decodes a 2xx JSON answer into out (when out is not nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	if c.base.Scheme == "invalid" {
		return fmt.Errorf("dpc: invalid base URL %q: %w", c.base.Opaque, ErrInvalid)
	}
	var u *url.URL
	if strings.HasPrefix(r.path, "http://") || strings.HasPrefix(r.path, "https://") {
		nu, err := url.Parse(r.path)
		if err != nil {
			return fmt.Errorf("dpc: bad link %q: %w", r.path, err)
		}
		// A next link on another host would carry our bearer token somewhere else.
		if nu.Host != c.base.Host || nu.Scheme != c.base.Scheme {
			return fmt.Errorf("dpc: server sent a link to another host %q: %w", nu.Host, ErrInvalid)
		}
		u = nu
	} else {
		nu := *c.base
		nu.Path = c.base.Path + r.path
		nu.RawPath = ""
		if len(r.query) > 0 {
			nu.RawQuery = r.query.Encode()
		}
		u = &nu
	}
	var body []byte
	ctype := r.ctype
	switch {
	case r.rawBody != nil:
		body = r.rawBody
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("dpc: encode %s body: %w", r.path, err)
		}
		body = b
		if ctype == "" {
			ctype = "application/fhir+json"
		}
	}
	return retry.Do(ctx, c.retry, c.limiter, func(int) retry.Attempt {
		resp, data, err := c.send(ctx, r, u, body, ctype)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if err == nil && status >= 200 && status <= 299 {
			if rt, ok := out.(*rawText); ok {
				*rt = append((*rt)[:0], data...)
			} else if out != nil && len(bytes.TrimSpace(data)) > 0 {
				if err := json.Unmarshal(data, out); err != nil {
					return retry.Attempt{Resp: resp, Err: fmt.Errorf("dpc: %s %s: decode %d answer: %w", r.method, u.Path, status, err)}
				}
			}
			return retry.Attempt{Resp: resp}
		}
		if err == nil {
			err = &APIError{Method: r.method, Path: u.Path, Status: status, Message: serverMessage(data)}
		}
		if !safeToRetry(r.method, u.Path, status, err) {
			err = retry.Stop(err)
		}
		return retry.Attempt{Resp: resp, Err: err}
	})
}

// send makes one attempt. A non-nil error means no HTTP answer was read.
func (c *Client) send(ctx context.Context, r request, u *url.URL, body []byte, ctype string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("dpc: %s %s: %w", r.method, u.Path, err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	accept := r.accept
	if accept == "" {
		accept = "application/fhir+json"
	}
	req.Header.Set("Accept", accept)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, transportError(ctx, r.method, u.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, transportError(ctx, r.method, u.Path, err)
	}
	return resp, data, nil
}

// safeToRetry says whether repeating a failed request cannot do harm. Reads, PUT, DELETE and
// $add/$remove (which converge on the same membership) are idempotent. A create that failed
// with 429 or 503, or whose connection was refused, was never processed; any other failure of
// a create may have created the resource, so it is not repeated blindly.
func safeToRetry(method, path string, status int, err error) bool {
	switch {
	case method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete:
		return true
	case strings.HasSuffix(path, "/$add") || strings.HasSuffix(path, "/$remove") || strings.HasSuffix(path, "/Token/validate"):
		return true
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return true
	}
	var oe *net.OpError
	return status == 0 && errors.As(err, &oe) && oe.Op == "dial"
}

// transportError classifies a failure to get any answer: cancellation stays as is, auth
// failures (from the token source) keep extract.ErrAuth, network trouble is retryable.
// url.Error carries only our URL, which never holds a secret.
func transportError(ctx context.Context, method, path string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("dpc: %s %s: %w", method, path, ctx.Err())
	}
	if errors.Is(err, extract.ErrAuth) || errors.Is(err, extract.ErrRetryable) {
		return fmt.Errorf("dpc: %s %s: %w", method, path, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("dpc: %s %s: %w: %w", method, path, extract.ErrRetryable, err)
	}
	return fmt.Errorf("dpc: %s %s: %w", method, path, err)
}

// searchAll follows a searchset's next links and returns every entry's resource decoded as T.
// A page that repeats or a loop of links stops with an error rather than spinning forever.
func searchAll[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var out []T
	next := path
	seen := map[string]bool{}
	for next != "" {
		var b bundle
		if err := c.do(ctx, request{method: http.MethodGet, path: next, query: q}, &b); err != nil {
			return out, err
		}
		q = nil // next links carry their own query
		if b.ResourceType != "" && b.ResourceType != "Bundle" {
			return out, fmt.Errorf("dpc: GET %s: expected a Bundle, got %s", path, b.ResourceType)
		}
		for _, e := range b.Entry {
			var v T
			if err := json.Unmarshal(e.Resource, &v); err != nil {
				return out, fmt.Errorf("dpc: GET %s: decode entry: %w", path, err)
			}
			out = append(out, v)
		}
		n := b.next()
		if n != "" && (seen[n] || len(b.Entry) == 0) {
			break // a server that keeps offering the same or an empty page is done
		}
		seen[n] = true
		next = n
	}
	return out, nil
}

// pageQuery asks for pages of the client's page size.
func (c *Client) pageQuery() url.Values { return url.Values{"_count": {strconv.Itoa(c.pageSize)}} }

// Organization returns the caller's organization (DPC answers with a Bundle of one; a bare
// resource is taken too).
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	var raw json.RawMessage
	if err := c.do(ctx, request{method: http.MethodGet, path: "/Organization"}, &raw); err != nil {
		return Organization{}, err
	}
	orgs, err := DecodeResources[Organization](raw, "Organization")
	if err != nil {
		return Organization{}, fmt.Errorf("dpc: GET /Organization: %w", err)
	}
	if len(orgs) == 0 {
		return Organization{}, fmt.Errorf("dpc: GET /Organization: no organization: %w", ErrNotFound)
	}
	return orgs[0], nil
}

// get fetches one resource of type T at path.
func get[T any](ctx context.Context, c *Client, path, accept string) (T, error) {
	var out T
	err := c.do(ctx, request{method: http.MethodGet, path: path, accept: accept}, &out)
	return out, err
}

// findOne searches path for identifier id and returns the resource whose key is id exactly.
func findOne[T any](ctx context.Context, c *Client, path, id string, key func(T) string) (T, error) {
	var zero T
	vs, err := searchAll[T](ctx, c, path, url.Values{"identifier": {id}})
	if err != nil {
		return zero, err
	}
	for _, v := range vs {
		if key(v) == id {
			return v, nil
		}
	}
	return zero, fmt.Errorf("dpc: no %s with identifier %s: %w", strings.TrimPrefix(path, "/"), id, ErrNotFound)
}
