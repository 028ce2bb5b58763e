// Package auth turns DPC credentials (client token, key id, RSA private key)
// into access tokens: signed JWT client assertions, a cached single-flight token source and a bearer transport.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/scrub"
)

// Credentials are what a DPC organization holds: the API base URL (…/api/v1),
// a client token (macaroon), the id of an uploaded public key and its private key.
type Credentials struct {
	BaseURL     string
	ClientToken string
	KeyID       string
	PrivateKey  *rsa.PrivateKey
}

// String never shows the secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("auth.Credentials{BaseURL: %q, KeyID: %q, ClientToken: [redacted], PrivateKey: [redacted]}", c.BaseURL, c.KeyID)
}

// GoString never shows the secrets (for %#v).
func (c Credentials) GoString() string { return c.String() }

// AssertionLifetime is how far ahead of the (skew-corrected) server time a
// client assertion expires. DPC refuses exp more than 5 minutes ahead; 4m30s
// leaves 30 s for the error of our skew estimate (Date has 1 s resolution) and
// for the request's latency.
const AssertionLifetime = 4*time.Minute + 30*time.Second

// LoadPrivateKey parses an RSA private key from PEM: PKCS#1 ("RSA PRIVATE
// KEY") or PKCS#8 ("PRIVATE KEY"). Errors never quote the key material.
func LoadPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("auth: private key: no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("auth: private key: invalid PKCS#1 RSA key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("auth: private key: invalid PKCS#8 key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("auth: private key: PKCS#8 key is %T, DPC needs RSA", k)
		}
		return rk, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("auth: private key: encrypted keys are not supported; decrypt it first")
	default:
		return nil, fmt.Errorf("auth: private key: PEM block %q is not a private key", block.Type)
	}
}

// ErrKeyFileMode marks a private key file that users other than its owner may read.
var ErrKeyFileMode = errors.New("private key file is readable by other users")

// AllowReadableKeyEnv names the environment variable that, set to 1, lets
// LoadPrivateKeyFile read a key file others may read: for mounts whose mode
// cannot be changed (a Kubernetes secret volume without defaultMode 0400).
const AllowReadableKeyEnv = "DPCETL_ALLOW_READABLE_KEY"

// LoadPrivateKeyFile reads a PEM private key file. Like ssh, it refuses a file
// that its group or other users may read (ErrKeyFileMode; chmod 600 fixes it)
// unless AllowReadableKeyEnv is 1: anyone who can read the key can export
// the organization's claims.
func LoadPrivateKeyFile(path string) (*rsa.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("auth: private key: %w", err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 && runtime.GOOS != "windows" && os.Getenv(AllowReadableKeyEnv) != "1" {
		return nil, fmt.Errorf("auth: private key file %s has mode %04o: %w; run chmod 600 %s (or set %s=1 if the mount cannot be changed)",
			path, m, ErrKeyFileMode, path, AllowReadableKeyEnv)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: private key: %w", err)
	}
	k, err := LoadPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// LoadPrivateKeyEnv reads a PEM private key from the environment variable
// name (looked up with getenv, os.Getenv when nil).
func LoadPrivateKeyEnv(name string, getenv func(string) string) (*rsa.PrivateKey, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := getenv(name)
	if v == "" {
		return nil, fmt.Errorf("auth: private key: environment variable %s is empty", name)
	}
	// Some secret stores flatten newlines; accept literal \n too.
	v = strings.ReplaceAll(v, `\n`, "\n")
	k, err := LoadPrivateKey([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%w (environment variable %s)", err, name)
	}
	return k, nil
}

// TokenURL is the token endpoint for a base URL; it is also the JWT audience.
func TokenURL(baseURL string) string { return strings.TrimRight(baseURL, "/") + "/Token/auth" }

// NewAssertion returns a signed RS384 client-assertion JWT: kid = key id,
// iss = sub = client token, aud = {BaseURL}/Token/auth, iat = now,
// exp = now + AssertionLifetime and a fresh random jti (DPC refuses replays).
// now should be the caller's best estimate of the server's time.
func NewAssertion(c Credentials, now time.Time) (string, error) {
	if c.PrivateKey == nil || c.ClientToken == "" || c.KeyID == "" || c.BaseURL == "" {
		return "", errors.New("auth: assertion: credentials need BaseURL, ClientToken, KeyID and PrivateKey")
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("auth: assertion: jti: %w", err)
	}
	claims := jwt.RegisteredClaims{
		Issuer:    c.ClientToken,
		Subject:   c.ClientToken,
		Audience:  jwt.ClaimStrings{TokenURL(c.BaseURL)},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(AssertionLifetime)),
		ID:        hex.EncodeToString(jti[:]),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS384, claims)
	tok.Header["kid"] = c.KeyID
	s, err := tok.SignedString(c.PrivateKey)
	if err != nil {
		// The jwt library's errors do not quote claims, but be sure.
		return "", errors.New("auth: assertion: signing failed: " + Redact(err.Error(), c.ClientToken))
	}
	return s, nil
}

// Option configures a TokenSource.
type Option func(*TokenSource)

// WithHTTPClient sets the client used for /Token/auth (default: a client with
// http.DefaultTransport and a 60 s timeout). It must not use ts.Transport.
func WithHTTPClient(c *http.Client) Option { return func(ts *TokenSource) { ts.hc = c } }

// WithClock sets the local clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(ts *TokenSource) { ts.now = now } }

// WithExtraHosts lets the bearer go to more origins ("https://host:port") than
// the API's own; by default it goes only to the BaseURL's scheme, host and port.
func WithExtraHosts(origins ...string) Option {
	return func(ts *TokenSource) {
		for _, o := range origins {
			if u, err := url.Parse(o); err == nil && u.Host != "" {
				ts.origins = append(ts.origins, Origin(u))
			}
		}
	}
}

// WithRetry sets the retry policy for token requests that fail transiently
// (network, 429, 5xx); share it with export and download (default retry.Default()).
func WithRetry(p retry.Policy) Option { return func(ts *TokenSource) { ts.policy = p } }

// WithOnToken is told every access token issued, before anyone uses it, so
// that a log redactor can mask it wherever a server might echo it.
func WithOnToken(f func(token string)) Option { return func(ts *TokenSource) { ts.onToken = f } }

// WithProgress receives clock-skew events.
func WithProgress(p extract.Progress) Option { return func(ts *TokenSource) { ts.progress = p } }

// TokenSource hands out DPC access tokens: cached, refreshed ahead of expiry,
// with one refresh at a time shared by every caller.
type TokenSource struct {
	cred       Credentials
	hc         *http.Client
	now        func() time.Time
	ahead      time.Duration
	origins    []string
	progress   extract.Progress
	skewReport time.Duration
	policy     retry.Policy
	onToken    func(string)

	cache *Cache

	mu       sync.Mutex
	skew     time.Duration // server minus local, from Date headers
	skewSeen bool
	reported time.Duration
}

// NewTokenSource returns a token source for c.
func NewTokenSource(c Credentials, opts ...Option) *TokenSource {
	ts := &TokenSource{cred: c, now: time.Now, ahead: time.Minute, skewReport: 5 * time.Second, policy: retry.Default()}
	for _, o := range opts {
		o(ts)
	}
	if ts.hc == nil {
		ts.hc = &http.Client{Timeout: 60 * time.Second}
	}
	if u, err := url.Parse(c.BaseURL); err == nil {
		ts.origins = append(ts.origins, Origin(u))
	}
	ts.cache = NewCache(ts.fetch, ts.now, ts.ahead)
	return ts
}

// Token returns a valid access token, fetching a new one when the cached one
// is near expiry. Concurrent callers share one fetch.
func (ts *TokenSource) Token(ctx context.Context) (string, error) { return ts.cache.Token(ctx) }

// Invalidate drops token from the cache if it is still the cached one, so
// the next Token call fetches a new one (used after a 401).
func (ts *TokenSource) Invalidate(token string) { ts.cache.Invalidate(token) }

// Skew is the last measured difference between the server's clock (Date
// header) and the local clock: positive when the server is ahead.
func (ts *TokenSource) Skew() time.Duration {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.skew
}

// Fetches is how many access tokens were obtained so far.
func (ts *TokenSource) Fetches() int { return ts.cache.Fetches() }

func (ts *TokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	var tok string
	var life time.Duration
	err := retry.Do(ctx, ts.policy, nil, func(int) retry.Attempt {
		var err error
		tok, life, err = ts.request(ctx)
		if errors.Is(err, errSkewRetry) {
			// The server's Date told us our clock is off; sign again on its time.
			tok, life, err = ts.request(ctx)
		}
		return retry.Attempt{Err: err}
	})
	if err == nil && ts.onToken != nil {
		ts.onToken(tok)
	}
	return tok, life, err
}

var errSkewRetry = errors.New("clock skew")

// request performs one POST /Token/auth.
func (ts *TokenSource) request(ctx context.Context) (string, time.Duration, error) {
	start := ts.now()
	ts.mu.Lock()
	skew, skewSeen := ts.skew, ts.skewSeen
	ts.mu.Unlock()
	if err := checkClientToken(ts.cred.ClientToken, start.Add(skew)); err != nil {
		return "", 0, fmt.Errorf("auth: %w", err)
	}
	assertion, err := NewAssertion(ts.cred, start.Add(skew))
	if err != nil {
		return "", 0, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"system/*.*"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	tokenURL := TokenURL(ts.cred.BaseURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("auth: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := ts.hc.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("auth: token request to %s: %s: %w", tokenURL, ts.redact(err.Error(), assertion), extract.ErrRetryable)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	newSkew, changed := ts.observeDate(resp, start)
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized && !skewSeen && changed && abs(newSkew-skew) > 20*time.Second:
		return "", 0, errSkewRetry
	default:
		msg := ts.redact(scrub.Body(body), assertion)
		var sentinel error
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			sentinel = extract.ErrRetryable
		default:
			sentinel = extract.ErrAuth
		}
		hint := ""
		if abs(newSkew) > 30*time.Second {
			hint = fmt.Sprintf(" (local clock differs from the server's by %s)", newSkew.Round(time.Second))
		}
		return "", 0, fmt.Errorf("auth: %s: HTTP %d: %s%s: %w", tokenURL, resp.StatusCode, msg, hint, sentinel)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.Number     `json:"expires_in"`
		Scope       json.RawMessage `json:"scope"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("auth: %s: response has no access_token: %w", tokenURL, extract.ErrAuth)
	}
	life := 300 * time.Second
	if s, err := tr.ExpiresIn.Float64(); err == nil && s > 0 {
		life = time.Duration(s * float64(time.Second))
	}
	return tr.AccessToken, life, nil
}

// observeDate records the server's clock from a Date header. The estimate is
// taken against the request start: Date is truncated to the second, so the
// estimate errs by at most a second plus the latency.
func (ts *TokenSource) observeDate(resp *http.Response, start time.Time) (time.Duration, bool) {
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
	ts.mu.Lock()
	ts.skew, ts.skewSeen = skew, true
	report := abs(skew) >= ts.skewReport && abs(skew-ts.reported) >= time.Second
	if report {
		ts.reported = skew
	}
	ts.mu.Unlock()
	if report {
		ts.progress.Emit(extract.Event{Kind: extract.EventClockSkew, Skew: skew})
	}
	return skew, true
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// redact removes every secret this source knows from s.
func (ts *TokenSource) redact(s string, extra ...string) string {
	return Redact(s, append(extra, ts.cred.ClientToken, ts.cache.Current())...)
}

// Authorized reports whether the bearer may be sent to u.
func (ts *TokenSource) Authorized(u *url.URL) bool { return slices.Contains(ts.origins, Origin(u)) }

// Transport returns a RoundTripper that adds the bearer token to requests for
// the API's origin only (scheme, host and port of BaseURL, plus WithExtraHosts)
// and, on a 401, refreshes the token once and retries the request once. A
// request with a body is retried only if it can be replayed (GetBody).
func (ts *TokenSource) Transport(base http.RoundTripper) http.RoundTripper {
	return NewTransport(base, ts, ts.now, func(resp *http.Response, start time.Time) { ts.observeDate(resp, start) })
}
