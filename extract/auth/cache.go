package auth

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Cache holds one access token, refreshed ahead of its expiry, with one fetch at a
// time shared by every caller. Token sources for any server build on it.
type Cache struct {
	fetch func(ctx context.Context) (token string, life time.Duration, err error)
	now   func() time.Time
	ahead time.Duration

	mu      sync.Mutex
	token   string
	expiry  time.Time // local clock
	flight  *flight
	fetches int
}

type flight struct {
	done  chan struct{}
	token string
	err   error
}

// NewCache returns a cache that obtains tokens with fetch, which reports each
// token's lifetime. A token is replaced ahead of its expiry (never more than a
// fifth of its lifetime ahead, so that short-lived tokens are still used).
func NewCache(fetch func(ctx context.Context) (string, time.Duration, error), now func() time.Time, ahead time.Duration) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{fetch: fetch, now: now, ahead: ahead}
}

// Token returns a valid access token, fetching a new one when the cached one
// is near expiry. Concurrent callers share one fetch.
func (c *Cache) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.token != "" && c.now().Before(c.expiry) {
		t := c.token
		c.mu.Unlock()
		return t, nil
	}
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		// The fetch outlives a caller that gives up: others may be waiting on it.
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *Cache) run(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tok, life, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		c.token = tok
		c.expiry = c.now().Add(life - min(c.ahead, life/5))
		c.fetches++
	}
	c.flight = nil
	c.mu.Unlock()
	f.token, f.err = tok, err
	close(f.done)
}

// Invalidate drops token from the cache if it is still the cached one, so
// the next Token call fetches a new one (used after a 401).
func (c *Cache) Invalidate(token string) {
	c.mu.Lock()
	if c.token == token {
		c.token = ""
	}
	c.mu.Unlock()
}

// Fetches is how many access tokens were obtained so far.
func (c *Cache) Fetches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches
}

// Current is the cached token, valid or not ("" when none), for redaction.
func (c *Cache) Current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// Redact replaces every secret of 8 or more characters in s with [redacted].
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// Origin is u's lower-case scheme://host:port, with the scheme's default port filled in.
func Origin(u *url.URL) string {
	host, port, scheme := strings.ToLower(u.Hostname()), u.Port(), strings.ToLower(u.Scheme)
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port
}

// Bearer is what a bearer transport needs from a token source.
type Bearer interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
	Authorized(u *url.URL) bool
}

type noBearer struct{}

// WithoutBearer makes the bearer transports send requests made with ctx without
// an Authorization header, whatever their origin (files of a manifest that says
// requiresAccessToken: false).
func WithoutBearer(ctx context.Context) context.Context {
	return context.WithValue(ctx, noBearer{}, true)
}

// NewTransport returns a RoundTripper that adds b's bearer token to requests for
// origins b authorizes only, unless their context says WithoutBearer (removing
// one someone else set for any other) and, on
// a 401, refreshes the token once and retries the request once. A request with a
// body is retried only if it can be replayed (GetBody). observe, when not nil, is
// shown every response with the local time its request started (now).
func NewTransport(base http.RoundTripper, b Bearer, now func() time.Time, observe func(resp *http.Response, start time.Time)) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if now == nil {
		now = time.Now
	}
	return &transport{b: b, base: base, now: now, observe: observe}
}

type transport struct {
	b       Bearer
	base    http.RoundTripper
	now     func() time.Time
	observe func(*http.Response, time.Time)
}

func (t *transport) send(req *http.Request, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	start := t.now()
	resp, err := t.base.RoundTrip(r)
	if err == nil && t.observe != nil {
		t.observe(resp, start)
	}
	return resp, err // transport errors carry the URL, never headers
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.b.Authorized(req.URL) || req.Context().Value(noBearer{}) != nil {
		if req.Header.Get("Authorization") != "" {
			// Never forward a bearer someone else put there to a foreign host.
			req = req.Clone(req.Context())
			req.Header.Del("Authorization")
		}
		return t.base.RoundTrip(req)
	}
	tok, err := t.b.Token(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.send(req, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// One refresh, one retry: the token may have expired in flight.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil
	}
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	t.b.Invalidate(tok)
	tok2, err := t.b.Token(req.Context())
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if body != nil {
		req = req.Clone(req.Context())
		req.Body = body
	}
	return t.send(req, tok2)
}
