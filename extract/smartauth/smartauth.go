// Package smartauth gets access tokens from bulk FHIR servers other than DPC: SMART Backend
// Services (a signed JWT assertion, token URL discovered) and BCDA's and AB2D's client-credentials calls.
package smartauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/golang-jwt/jwt/v5"
)

// Config says how to authenticate. Set Key for a SMART Backend Services client, or
// ClientSecret for a client-credentials one (BCDA, AB2D); see SMART, BCDA and AB2D.
type Config struct {
	// FHIRBaseURL is the server's FHIR base: discovery is read under it and the
	// bearer goes to its origin only.
	FHIRBaseURL string
	// TokenURL overrides discovery (required with ClientSecret).
	TokenURL string
	// ClientID is the SMART client_id (iss and sub of the assertion) or the
	// client-credentials id.
	ClientID string

	// Key signs the assertion: *rsa.PrivateKey (RS384) or *ecdsa.PrivateKey on P-384 (ES384).
	Key crypto.Signer
	// KeyID is the kid header: which of the client's registered keys signed.
	KeyID string
	// Alg is "RS384" or "ES384"; empty picks the one matching Key.
	Alg string

	// ClientSecret selects HTTP Basic client credentials instead of an assertion.
	ClientSecret string

	// Scopes asked for (default "system/*.read" for SMART, none for client credentials).
	Scopes []string
}

// String never shows the secrets.
func (c Config) String() string {
	return fmt.Sprintf("smartauth.Config{FHIRBaseURL: %q, TokenURL: %q, ClientID: %q, KeyID: %q, Alg: %q, Key: [redacted], ClientSecret: [redacted], Scopes: %q}",
		c.FHIRBaseURL, c.TokenURL, c.ClientID, c.KeyID, c.Alg, c.Scopes)
}

// GoString never shows the secrets.
func (c Config) GoString() string { return c.String() }

// SMART is a SMART Backend Services client whose token URL is discovered.
func SMART(fhirBase, clientID, kid string, key crypto.Signer, scopes ...string) Config {
	return Config{FHIRBaseURL: fhirBase, ClientID: clientID, KeyID: kid, Key: key, Scopes: scopes}
}

// BCDA is a BCDA client: POST {root}/auth/token with HTTP Basic credentials, where
// root is the FHIR base without its /api/vN path (bcda/auth/router.go).
func BCDA(fhirBase, clientID, secret string) Config {
	root := fhirBase
	if i := strings.Index(root, "/api/v"); i >= 0 {
		root = root[:i]
	}
	return Config{FHIRBaseURL: fhirBase, TokenURL: strings.TrimRight(root, "/") + "/auth/token", ClientID: clientID, ClientSecret: secret}
}

// AB2D is an AB2D client: the Okta token URL with HTTP Basic credentials and scope
// clientCreds (ab2d e2e-test APIClient.generateToken).
func AB2D(fhirBase, tokenURL, clientID, secret string) Config {
	return Config{FHIRBaseURL: fhirBase, TokenURL: tokenURL, ClientID: clientID, ClientSecret: secret, Scopes: []string{"clientCreds"}}
}

// Option configures a TokenSource.
type Option func(*TokenSource)

// WithHTTPClient sets the client for discovery and token calls (default: 60 s
// timeout, http.DefaultTransport). It must not use ts.Transport.
func WithHTTPClient(c *http.Client) Option { return func(ts *TokenSource) { ts.hc = c } }

// WithClock sets the local clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(ts *TokenSource) { ts.now = now } }

// WithExtraHosts lets the bearer go to more origins than the FHIR base's (for file
// servers the manifest says need it).
func WithExtraHosts(origins ...string) Option {
	return func(ts *TokenSource) {
		for _, o := range origins {
			if u, err := url.Parse(o); err == nil && u.Host != "" {
				ts.origins = append(ts.origins, auth.Origin(u))
			}
		}
	}
}

// WithRedactor receives every secret the source holds or obtains (client secret,
// assertions, access tokens) as soon as it has them, e.g. (*logging.Redactor).Add.
func WithRedactor(add func(secrets ...string)) Option {
	return func(ts *TokenSource) { ts.redactor = add }
}

// WithRetry retries token requests that fail transiently (network, 429, 5xx: BCDA's SSAS
// answers 503 when it times out) per p; share it with export and download. Default: one try.
func WithRetry(p retry.Policy) Option { return func(ts *TokenSource) { ts.policy = &p } }

// WithProgress receives clock-skew events.
func WithProgress(p extract.Progress) Option { return func(ts *TokenSource) { ts.progress = p } }

// TokenSource hands out access tokens: cached, refreshed ahead of expiry, one fetch
// at a time shared by every caller. Its methods match extract/auth.TokenSource's.
type TokenSource struct {
	cfg      Config
	hc       *http.Client
	now      func() time.Time
	ahead    time.Duration
	origins  []string
	redactor func(...string)

	cache    *auth.Cache
	skew     *auth.Skew
	progress extract.Progress
	policy   *retry.Policy

	mu       sync.Mutex
	tokenURL string
	scope    string
	secrets  []string
}

// NewTokenSource checks cfg and returns a token source for it.
func NewTokenSource(cfg Config, opts ...Option) (*TokenSource, error) {
	u, err := url.Parse(cfg.FHIRBaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("smartauth: FHIR base URL %q must be an absolute http(s) URL", cfg.FHIRBaseURL)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("smartauth: client id is required")
	}
	switch {
	case cfg.ClientSecret != "" && cfg.Key != nil:
		return nil, errors.New("smartauth: set either a key or a client secret, not both")
	case cfg.ClientSecret != "":
		if cfg.TokenURL == "" {
			return nil, errors.New("smartauth: client credentials need a token URL")
		}
	case cfg.Key == nil:
		return nil, errors.New("smartauth: a private key or a client secret is required")
	default:
		alg, err := algFor(cfg.Key, cfg.Alg)
		if err != nil {
			return nil, err
		}
		cfg.Alg = alg
		if cfg.KeyID == "" {
			return nil, errors.New("smartauth: a key id (kid) is required with a private key")
		}
		if len(cfg.Scopes) == 0 {
			cfg.Scopes = []string{"system/*.read"}
		}
	}
	ts := &TokenSource{cfg: cfg, now: time.Now, ahead: time.Minute, tokenURL: cfg.TokenURL}
	for _, o := range opts {
		o(ts)
	}
	if ts.hc == nil {
		ts.hc = &http.Client{Timeout: 60 * time.Second}
	}
	ts.origins = append(ts.origins, auth.Origin(u))
	ts.cache = auth.NewCache(ts.fetch, ts.now, ts.ahead)
	ts.skew = auth.NewSkew(ts.progress, 0)
	if cfg.ClientSecret != "" {
		ts.addSecret(cfg.ClientSecret, base64.StdEncoding.EncodeToString([]byte(cfg.ClientID+":"+cfg.ClientSecret)))
	}
	return ts, nil
}

func algFor(k crypto.Signer, alg string) (string, error) {
	switch key := k.(type) {
	case *rsa.PrivateKey:
		if alg == "" || alg == "RS384" {
			return "RS384", nil
		}
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P384() {
			return "", fmt.Errorf("smartauth: EC key on %s: ES384 needs P-384", key.Curve.Params().Name)
		}
		if alg == "" || alg == "ES384" {
			return "ES384", nil
		}
	default:
		return "", fmt.Errorf("smartauth: unsupported key type %T (want RSA or EC P-384)", k)
	}
	return "", fmt.Errorf("smartauth: algorithm %q does not fit a %T (RS384 for RSA, ES384 for EC P-384)", alg, k)
}

// addSecret remembers a secret for redaction and hands it to the redactor hook.
func (ts *TokenSource) addSecret(secrets ...string) {
	ts.mu.Lock()
	ts.secrets = append(ts.secrets, secrets...)
	ts.mu.Unlock()
	if ts.redactor != nil {
		ts.redactor(secrets...)
	}
}

func (ts *TokenSource) redact(s string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return auth.Redact(s, ts.secrets...)
}

// Token returns a valid access token, fetching one when the cached one is near expiry.
func (ts *TokenSource) Token(ctx context.Context) (string, error) { return ts.cache.Token(ctx) }

// Invalidate drops token from the cache if it is still the cached one (after a 401).
func (ts *TokenSource) Invalidate(token string) { ts.cache.Invalidate(token) }

// Fetches is how many access tokens were obtained so far.
func (ts *TokenSource) Fetches() int { return ts.cache.Fetches() }

// GrantedScope is the scope the server granted with the last token ("" if it said none).
func (ts *TokenSource) GrantedScope() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.scope
}

// TokenURL returns the token endpoint, discovering it first if needed.
func (ts *TokenSource) TokenURL(ctx context.Context) (string, error) {
	ts.mu.Lock()
	u := ts.tokenURL
	ts.mu.Unlock()
	if u != "" {
		return u, nil
	}
	u, err := ts.discover(ctx)
	if err != nil {
		return "", err
	}
	ts.mu.Lock()
	ts.tokenURL = u
	ts.mu.Unlock()
	return u, nil
}

// Skew is the last measured difference between the server's clock (Date header) and
// ours: positive when the server is ahead. Assertions are signed on the server's time.
func (ts *TokenSource) Skew() time.Duration {
	d, _ := ts.skew.Get()
	return d
}

var errSkewRetry = errors.New("clock skew")

func (ts *TokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	var tok, scope string
	var life time.Duration
	p := retry.Policy{MaxAttempts: 1}
	if ts.policy != nil {
		p = *ts.policy
	}
	err := retry.Do(ctx, p, nil, func(int) retry.Attempt {
		var err error
		tok, scope, life, err = ts.request(ctx)
		if errors.Is(err, errSkewRetry) {
			// The server's Date told us our clock is off: sign again on its time.
			tok, scope, life, err = ts.request(ctx)
		}
		return retry.Attempt{Err: err}
	})
	if err == nil {
		ts.mu.Lock()
		ts.scope = scope
		ts.mu.Unlock()
	}
	return tok, life, err
}

// smartConfiguration is the part of .well-known/smart-configuration a backend client reads.
type smartConfiguration struct {
	TokenEndpoint string   `json:"token_endpoint"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	SigningAlgs   []string `json:"token_endpoint_auth_signing_alg_values_supported"`
}

func (ts *TokenSource) discover(ctx context.Context) (string, error) {
	u := strings.TrimRight(ts.cfg.FHIRBaseURL, "/") + "/.well-known/smart-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("smartauth: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ts.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("smartauth: discovery %s: %w: %w", u, err, extract.ErrRetryable)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		sentinel := extract.ErrAuth
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			sentinel = extract.ErrRetryable
		}
		return "", fmt.Errorf("smartauth: discovery %s: HTTP %d: %w", u, resp.StatusCode, sentinel)
	}
	var sc smartConfiguration
	if err := json.Unmarshal(body, &sc); err != nil {
		return "", fmt.Errorf("smartauth: discovery %s: not JSON: %v: %w", u, err, extract.ErrAuth)
	}
	tu, err := url.Parse(sc.TokenEndpoint)
	if err != nil || tu.Host == "" || (tu.Scheme != "https" && tu.Scheme != "http") {
		return "", fmt.Errorf("smartauth: discovery %s: token_endpoint %q is not an absolute URL: %w", u, sc.TokenEndpoint, extract.ErrAuth)
	}
	if len(sc.AuthMethods) > 0 && !slices.Contains(sc.AuthMethods, "private_key_jwt") {
		return "", fmt.Errorf("smartauth: %s supports token auth methods %q, not private_key_jwt: %w", u, sc.AuthMethods, extract.ErrAuth)
	}
	if len(sc.SigningAlgs) > 0 && !slices.Contains(sc.SigningAlgs, ts.cfg.Alg) {
		return "", fmt.Errorf("smartauth: %s accepts assertions signed with %q, not %s: %w", u, sc.SigningAlgs, ts.cfg.Alg, extract.ErrAuth)
	}
	return sc.TokenEndpoint, nil
}

// Assertion signs a client assertion for tokenURL at now: iss = sub = client_id,
// aud = tokenURL as a string (SMART Backend Services), exp 4 minutes on, a random jti.
func (ts *TokenSource) Assertion(tokenURL string, now time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("smartauth: jti: %w", err)
	}
	m := jwt.GetSigningMethod(ts.cfg.Alg)
	tok := jwt.NewWithClaims(m, jwt.MapClaims{
		"iss": ts.cfg.ClientID, "sub": ts.cfg.ClientID, "aud": tokenURL,
		"exp": now.Add(4 * time.Minute).Unix(), "jti": hex.EncodeToString(jti),
	})
	tok.Header["kid"] = ts.cfg.KeyID
	s, err := tok.SignedString(ts.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("smartauth: signing the assertion: %w", err)
	}
	return s, nil
}

func (ts *TokenSource) request(ctx context.Context) (string, string, time.Duration, error) {
	tokenURL, err := ts.TokenURL(ctx)
	if err != nil {
		return "", "", 0, err
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(ts.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(ts.cfg.Scopes, " "))
	}
	start := ts.now()
	skew, known := ts.skew.Get()
	if ts.cfg.ClientSecret == "" {
		a, err := ts.Assertion(tokenURL, start.Add(skew))
		if err != nil {
			return "", "", 0, err
		}
		ts.addSecret(a)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", 0, fmt.Errorf("smartauth: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if ts.cfg.ClientSecret != "" {
		req.SetBasicAuth(ts.cfg.ClientID, ts.cfg.ClientSecret)
	}
	resp, err := ts.hc.Do(req)
	if err != nil {
		return "", "", 0, fmt.Errorf("smartauth: token request to %s: %s: %w", tokenURL, ts.redact(err.Error()), extract.ErrRetryable)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if ts.skew.Resign(resp, start, skew, known) && ts.cfg.ClientSecret == "" {
		return "", "", 0, errSkewRetry
	}
	if resp.StatusCode != http.StatusOK {
		msg := ts.redact(strings.TrimSpace(string(body)))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		sentinel := extract.ErrAuth
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			sentinel = extract.ErrRetryable
		}
		return "", "", 0, fmt.Errorf("smartauth: %s: HTTP %d: %s: %w", tokenURL, resp.StatusCode, msg, sentinel)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		// json.Number takes both 300 and BCDA's "1200" (a string; bcda/auth/client/ssas.go).
		ExpiresIn json.Number `json:"expires_in"`
		Scope     string      `json:"scope"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", "", 0, fmt.Errorf("smartauth: %s: response has no access_token: %w", tokenURL, extract.ErrAuth)
	}
	ts.addSecret(tr.AccessToken)
	life := 300 * time.Second
	if s, err := tr.ExpiresIn.Float64(); err == nil && s > 0 {
		life = time.Duration(s * float64(time.Second))
	}
	return tr.AccessToken, tr.Scope, life, nil
}

// Authorized reports whether the bearer may be sent to u: the FHIR base's origin and
// WithExtraHosts only.
func (ts *TokenSource) Authorized(u *url.URL) bool {
	return slices.Contains(ts.origins, auth.Origin(u))
}

// Transport returns a RoundTripper that adds the bearer to requests for authorized
// origins only (removing one someone else set for any other) and, on a 401, refreshes
// the token once and retries once when the body can be replayed.
func (ts *TokenSource) Transport(base http.RoundTripper) http.RoundTripper {
	return auth.NewTransport(base, ts, ts.now, func(resp *http.Response, start time.Time) { ts.skew.Observe(resp, start) })
}

// ParsePrivateKey reads a PEM private key for an assertion: PKCS#8 (RSA or EC),
// PKCS#1 RSA or SEC 1 EC.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("smartauth: private key: no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("smartauth: private key: unsupported PKCS#8 key %T", k)
		}
		return s, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("smartauth: private key: PEM block %q is not a PKCS#8, PKCS#1 or SEC 1 key", b.Type)
}

// PublicJWKS returns the JWK Set of key's public half under kid, what a SMART
// server registers for the client.
func PublicJWKS(key crypto.Signer, kid string) ([]byte, error) {
	enc := base64.RawURLEncoding
	var k map[string]string
	switch p := key.Public().(type) {
	case *rsa.PublicKey:
		k = map[string]string{"kty": "RSA", "kid": kid, "alg": "RS384", "use": "sig",
			"n": enc.EncodeToString(p.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P384() {
			return nil, errors.New("smartauth: JWKS: EC keys must be on P-384")
		}
		b, err := p.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("smartauth: JWKS: %w", err)
		}
		k = map[string]string{"kty": "EC", "kid": kid, "alg": "ES384", "use": "sig", "crv": "P-384",
			"x": enc.EncodeToString(b[1:49]), "y": enc.EncodeToString(b[49:])}
	default:
		return nil, fmt.Errorf("smartauth: JWKS: unsupported key %T", p)
	}
	return json.Marshal(map[string]any{"keys": []any{k}})
}
