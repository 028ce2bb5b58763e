package auth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
	"github.com/dpcetl/dpcetl/extract/retry"
)

func TestLoadPrivateKey(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)})
	tests := []struct {
		name string
		pem  []byte
		ok   bool
	}{
		{"pkcs1", pkcs1, true},
		{"pkcs8", pkcs8, true},
		{"public key", pub, false},
		{"garbage", []byte("not a key"), false},
		{"corrupt pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8[:40]}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := auth.LoadPrivateKey(tc.pem)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if tc.ok && !got.Equal(k) {
				t.Fatal("loaded a different key")
			}
			if err != nil && strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(p8[:30])) {
				t.Fatal("error quotes key material")
			}
		})
	}
	env := map[string]string{"DPC_KEY": strings.ReplaceAll(string(pkcs1), "\n", `\n`)}
	got, err := auth.LoadPrivateKeyEnv("DPC_KEY", func(k string) string { return env[k] })
	if err != nil || !got.Equal(k) {
		t.Fatalf("env key: %v", err)
	}
	if _, err := auth.LoadPrivateKeyEnv("MISSING", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "MISSING") {
		t.Fatalf("missing env: %v", err)
	}
}

func TestNewAssertion(t *testing.T) {
	k, _ := rsa.GenerateKey(rand.Reader, 1024)
	c := auth.Credentials{BaseURL: "https://sandbox.dpc.cms.gov/api/v1/", ClientToken: "W3sidiI6MiwibG9jYXRpb24iOiJodHRwcyJ9XQ==", KeyID: "7b1a0b4e-0000-4000-8000-000000000001", PrivateKey: k}
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	jtis := map[string]bool{}
	for range 3 {
		s, err := auth.NewAssertion(c, now)
		if err != nil {
			t.Fatal(err)
		}
		var claims jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(s, &claims, func(*jwt.Token) (any, error) { return &k.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS384"}), jwt.WithTimeFunc(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Header["kid"] != c.KeyID {
			t.Errorf("kid = %v", tok.Header["kid"])
		}
		if claims.Issuer != c.ClientToken || claims.Subject != c.ClientToken {
			t.Errorf("iss/sub = %q/%q", claims.Issuer, claims.Subject)
		}
		if len(claims.Audience) != 1 || claims.Audience[0] != "https://sandbox.dpc.cms.gov/api/v1/Token/auth" {
			t.Errorf("aud = %v", claims.Audience)
		}
		if life := claims.ExpiresAt.Sub(now); life <= 0 || life > 5*time.Minute {
			t.Errorf("exp is %s ahead", life)
		}
		if claims.IssuedAt == nil || !claims.IssuedAt.Equal(now) {
			t.Errorf("iat = %v", claims.IssuedAt)
		}
		if claims.ID == "" || jtis[claims.ID] {
			t.Errorf("jti %q empty or reused", claims.ID)
		}
		jtis[claims.ID] = true
	}
	if _, err := auth.NewAssertion(auth.Credentials{}, now); err == nil {
		t.Fatal("empty credentials signed")
	}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, c.ClientToken) || strings.Contains(s, "PrivateKey:&") {
		t.Fatalf("credentials print secrets: %s", s)
	}
}

// get fetches the organization through the transport and returns the status.
func get(t *testing.T, hc *http.Client, u string) int {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestTokenSourceSandbox(t *testing.T) {
	sb := sandboxtest.Start(t, 1)
	ts := auth.NewTokenSource(sb.Cred)
	hc := &http.Client{Transport: ts.Transport(nil)}
	for range 3 {
		if st := get(t, hc, sb.Srv.BaseURL()+"/Organization"); st != 200 {
			t.Fatalf("GET /Organization = %d", st)
		}
	}
	if n := sb.Srv.Requests("/api/v1/Token/auth"); n != 1 || ts.Fetches() != 1 {
		t.Fatalf("token fetched %d times (server saw %d), want 1: not cached", ts.Fetches(), n)
	}
}

// Many workers asking at once share one fetch.
func TestTokenSingleFlight(t *testing.T) {
	sb := sandboxtest.Start(t, 1)
	ts := auth.NewTokenSource(sb.Cred)
	var wg sync.WaitGroup
	toks := make([]string, 32)
	errs := make([]error, 32)
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = ts.Token(context.Background()) })
	}
	wg.Wait()
	for i := range toks {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("worker %d: %q %v", i, toks[i], errs[i])
		}
	}
	if n := sb.Srv.Requests("/api/v1/Token/auth"); n != 1 {
		t.Fatalf("server saw %d token requests, want 1", n)
	}
}

// Tokens are replaced ahead of expiry: with a 2 s lifetime, a token is
// replaced after 1.6 s (a fifth of the life ahead), before the server refuses it.
func TestTokenRefreshAhead(t *testing.T) {
	sb := sandboxtest.Start(t, 1, dpctest.WithTokenLifetime(2*time.Second))
	var now atomic.Int64
	start := time.Now()
	now.Store(start.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	ts := auth.NewTokenSource(sb.Cred, auth.WithClock(clock))
	t1, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now.Store(start.Add(1500 * time.Millisecond).UnixNano())
	if t2, _ := ts.Token(context.Background()); t2 != t1 {
		t.Fatal("token replaced too early")
	}
	now.Store(start.Add(1700 * time.Millisecond).UnixNano())
	t3, err := ts.Token(context.Background())
	if err != nil || t3 == t1 {
		t.Fatalf("token not refreshed ahead of expiry (err %v)", err)
	}
}

// A token that dies on the server while we still think it valid: the 401
// triggers one refresh and one retry, and a POST body is replayed intact.
func TestTransport401RefreshRetry(t *testing.T) {
	sb := sandboxtest.Start(t, 1, dpctest.WithTokenLifetime(500*time.Millisecond))
	// Our clock stands still, so we keep believing the token is fresh.
	frozen := time.Now()
	ts := auth.NewTokenSource(sb.Cred, auth.WithClock(func() time.Time { return frozen }))
	hc := &http.Client{Transport: ts.Transport(nil)}
	if st := get(t, hc, sb.Srv.BaseURL()+"/Organization"); st != 200 {
		t.Fatalf("status %d", st)
	}
	time.Sleep(700 * time.Millisecond) // the token dies on the server
	body := keyUploadBody(t)
	req, _ := http.NewRequest(http.MethodPost, sb.Srv.BaseURL()+"/Key?label=second", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /Key after expiry = %d %s", resp.StatusCode, got)
	}
	if ts.Fetches() < 2 {
		t.Fatalf("fetches = %d, want a refresh", ts.Fetches())
	}
	if n := sb.Srv.Requests("/api/v1/Key"); n != 2 {
		t.Fatalf("server saw %d POST /Key, want 2 (one retry)", n)
	}
}

func keyUploadBody(t *testing.T) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, sandboxtest.KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	h := sha256.Sum256([]byte("This is the snippet used to verify a key pair in DPC."))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"key":       string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"signature": base64.StdEncoding.EncodeToString(sig),
	})
	return b
}

// The bearer goes to the API's origin only: not to another port on the same
// host, not to another host, not after a redirect to one.
func TestTransportBearerOnlyToAPI(t *testing.T) {
	sb := sandboxtest.Start(t, 1)
	var mu sync.Mutex
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/bounce" {
			http.Redirect(w, r, sb.Srv.BaseURL()+"/Organization", http.StatusFound)
			return
		}
		w.WriteHeader(204)
	}))
	defer other.Close()
	ts := auth.NewTokenSource(sb.Cred)
	hc := &http.Client{Transport: ts.Transport(nil)}
	get(t, hc, other.URL+"/x")
	req, _ := http.NewRequest("GET", other.URL+"/y", nil)
	req.Header.Set("Authorization", "Bearer planted")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A redirect from a foreign host back to the API gets the bearer again (it is
	// the API), which shows the check is per request.
	if st := get(t, hc, other.URL+"/bounce"); st != 200 {
		t.Fatalf("bounce status %d", st)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, a := range seen {
		if a != "" {
			t.Fatalf("request %d to a foreign origin carried Authorization %q", i, a)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("foreign server saw %d requests", len(seen))
	}
	// Configured extra hosts do get it.
	ts2 := auth.NewTokenSource(sb.Cred, auth.WithExtraHosts(other.URL))
	seen = nil
	mu.Unlock()
	get(t, &http.Client{Transport: ts2.Transport(nil)}, other.URL+"/z")
	mu.Lock()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "Bearer ") {
		t.Fatalf("extra host got %q", seen)
	}
}

// A local clock that is off by ten minutes either way: the first assertion is
// refused, the server's Date reveals the skew, the second assertion is signed on
// the server's time and succeeds; the skew is reported.
func TestClockSkew(t *testing.T) {
	sb := sandboxtest.Start(t, 1)
	for _, off := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
		t.Run(off.String(), func(t *testing.T) {
			var events []extract.Event
			var mu sync.Mutex
			ts := auth.NewTokenSource(sb.Cred,
				auth.WithClock(func() time.Time { return time.Now().Add(off) }),
				auth.WithProgress(func(e extract.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
			if _, err := ts.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := ts.Skew() + off; d < -3*time.Second || d > 3*time.Second {
				t.Fatalf("skew %s, want about %s", ts.Skew(), -off)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) == 0 || events[0].Kind != extract.EventClockSkew {
				t.Fatalf("no skew event: %+v", events)
			}
		})
	}
}

// The other way round: our clock is right and the server's jumps ten minutes
// (the sandbox's Date follows its Clock). With the real local clock the first
// assertion is refused, the Date on that refusal shows the skew, and exactly one
// re-signed assertion on the server's time succeeds; the token then works.
func TestServerClockJump(t *testing.T) {
	for _, jump := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(jump.String(), func(t *testing.T) {
			sb := sandboxtest.Start(t, 1)
			sb.Srv.Clock().Advance(jump)
			var mu sync.Mutex
			var events []extract.Event
			ts := auth.NewTokenSource(sb.Cred, auth.WithProgress(func(e extract.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }))
			hc := &http.Client{Transport: ts.Transport(nil)}
			if st := get(t, hc, sb.Srv.BaseURL()+"/Organization"); st != 200 {
				t.Fatalf("GET /Organization = %d after the server clock moved %s", st, jump)
			}
			if d := ts.Skew() - jump; d < -3*time.Second || d > 3*time.Second {
				t.Fatalf("skew %s, want about %s", ts.Skew(), jump)
			}
			if n := sb.Srv.Requests("/api/v1/Token/auth"); n != 2 || ts.Fetches() != 1 {
				t.Fatalf("%d token requests (%d tokens), want 2: one refused, one re-signed", n, ts.Fetches())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) == 0 || events[0].Kind != extract.EventClockSkew {
				t.Fatalf("no skew event: %+v", events)
			}
		})
	}
}

// No error or log line carries the client token, an assertion or an access token.
func TestNoSecretsInErrors(t *testing.T) {
	sb := sandboxtest.Start(t, 1)
	ts := auth.NewTokenSource(sb.Cred, auth.WithRetry(fastRetry))
	good, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, sandboxtest.KeyBits)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	bad := []auth.Credentials{
		{BaseURL: sb.Cred.BaseURL, ClientToken: sb.Cred.ClientToken, KeyID: sb.Cred.KeyID, PrivateKey: other},                                       // bad signature
		{BaseURL: sb.Cred.BaseURL, ClientToken: sb.Cred.ClientToken, KeyID: "00000000-0000-4000-8000-000000000000", PrivateKey: sb.Cred.PrivateKey}, // unknown kid
		{BaseURL: sb.Cred.BaseURL, ClientToken: sb.Cred.ClientToken + "x", KeyID: sb.Cred.KeyID, PrivateKey: sb.Cred.PrivateKey},                    // bad client token
		{BaseURL: "http://127.0.0.1:1/api/v1", ClientToken: sb.Cred.ClientToken, KeyID: sb.Cred.KeyID, PrivateKey: sb.Cred.PrivateKey},              // nothing listens
	}
	for i, c := range bad {
		var events []extract.Event
		ts := auth.NewTokenSource(c, auth.WithRetry(fastRetry), auth.WithProgress(func(e extract.Event) { events = append(events, e) }))
		_, err := ts.Token(context.Background())
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		if i < 3 && !errors.Is(err, extract.ErrAuth) {
			t.Errorf("case %d: %v does not wrap ErrAuth", i, err)
		}
		if i == 3 && !errors.Is(err, extract.ErrRetryable) {
			t.Errorf("case %d: %v does not wrap ErrRetryable", i, err)
		}
		hc := &http.Client{Transport: ts.Transport(nil)}
		_, herr := hc.Get(c.BaseURL + "/Organization")
		log.Error("token", "err", err, "http", herr, "events", fmt.Sprint(events), "cred", c)
	}
	for _, s := range []string{sb.Cred.ClientToken, good} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("log output contains a secret:\n%s", logs.String())
		}
	}
	if strings.Contains(logs.String(), "eyJ") { // any JWT header
		t.Fatalf("log output contains a JWT:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "401") {
		t.Fatalf("errors lost the status:\n%s", logs.String())
	}
}

func ExampleNewAssertion() {
	k, _ := rsa.GenerateKey(rand.Reader, 1024)
	c := auth.Credentials{BaseURL: "https://sandbox.dpc.cms.gov/api/v1", ClientToken: "W3sidiI6Mi...", KeyID: "key-1", PrivateKey: k}
	s, _ := auth.NewAssertion(c, time.Now())
	tok, _ := jwt.Parse(s, func(*jwt.Token) (any, error) { return &k.PublicKey, nil })
	aud, _ := tok.Claims.GetAudience()
	fmt.Println(tok.Method.Alg(), tok.Header["kid"], aud[0])
	// Output: RS384 key-1 https://sandbox.dpc.cms.gov/api/v1/Token/auth
}

// A token endpoint outage is retryable (not an auth failure), and the next
// call after it recovers gets a token.
var fastRetry = retry.Policy{MaxAttempts: 3, Base: 5 * time.Millisecond, Max: 20 * time.Millisecond}

func TestTokenEndpointOutage(t *testing.T) {
	sb := sandboxtest.Start(t, 1, dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{
		{Kind: dpctest.FaultUnavailable, Path: "/Token/auth", Count: 1},
		{Kind: dpctest.FaultTooManyRequests, Path: "/Token/auth", Count: 1},
	}}))
	// The first token request is retried under the shared policy: a 503 and a
	// 429 at start cost two retries, not the run.
	ts := auth.NewTokenSource(sb.Cred, auth.WithRetry(fastRetry))
	if _, err := ts.Token(context.Background()); err != nil {
		t.Fatalf("through the outage: %v", err)
	}
	if n := sb.Srv.Requests("/api/v1/Token/auth"); n != 3 {
		t.Fatalf("%d token requests, want 3 (two failures, one success)", n)
	}
	// When the policy is spent the error stays retryable, never an auth failure.
	sb.Srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Token/auth"}}})
	ts1 := auth.NewTokenSource(sb.Cred, auth.WithRetry(fastRetry))
	if _, err := ts1.Token(context.Background()); !errors.Is(err, extract.ErrRetryable) || errors.Is(err, extract.ErrAuth) {
		t.Fatalf("long outage: err = %v, want retryable", err)
	}
	sb.Srv.SetFaults(dpctest.Faults{})
	// A caller that gives up does not spoil the fetch for the others.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ts2 := auth.NewTokenSource(sb.Cred)
	if _, err := ts2.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	if _, err := ts2.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The real first-time flow a user goes through: organization, key upload and
// client token from the portal; the private key as a PKCS#1 PEM file; then an
// access token from /Token/auth.
func TestPortalFlowPKCS1File(t *testing.T) {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(sandboxtest.KeyBits))
	defer srv.Close()
	post := func(u, body string, out any) {
		t.Helper()
		resp, err := http.Post(srv.URL+u, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("POST %s: %d %s", u, resp.StatusCode, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	var org, key, tok struct{ ID, Token string }
	post("/portal/Organization", `{"name":"Portal Org","npi":"1234567893"}`, &org)
	k, err := rsa.GenerateKey(rand.Reader, sandboxtest.KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	h := sha256.Sum256([]byte("This is the snippet used to verify a key pair in DPC."))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	body, _ := json.Marshal(map[string]string{"key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "signature": base64.StdEncoding.EncodeToString(sig)})
	post("/portal/Organization/"+org.ID+"/Key?label=first", string(body), &key)
	post("/portal/Organization/"+org.ID+"/Token?label=first", "", &tok)
	if key.ID == "" || tok.Token == "" {
		t.Fatalf("portal gave key %q token %d chars", key.ID, len(tok.Token))
	}
	path := t.TempDir() + "/dpc.pem"
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	pk, err := auth.LoadPrivateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := auth.NewTokenSource(auth.Credentials{BaseURL: srv.BaseURL(), ClientToken: tok.Token, KeyID: key.ID, PrivateKey: pk})
	if st := get(t, &http.Client{Transport: ts.Transport(nil)}, srv.BaseURL()+"/Organization"); st != 200 {
		t.Fatalf("GET /Organization = %d", st)
	}
}

// A private key file others may read is refused, naming the fix, unless the
// operator allows it explicitly (a mount whose mode cannot be changed).
func TestKeyFileModeRefused(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/dpc.pem"
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	t.Setenv(auth.AllowReadableKeyEnv, "")
	_, err = auth.LoadPrivateKeyFile(path)
	if !errors.Is(err, auth.ErrKeyFileMode) || !strings.Contains(err.Error(), "chmod 600 "+path) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("0644 key: err = %v, want ErrKeyFileMode naming chmod 600", err)
	}
	t.Setenv(auth.AllowReadableKeyEnv, "1")
	if _, err := auth.LoadPrivateKeyFile(path); err != nil {
		t.Fatalf("allowed readable key: %v", err)
	}
	t.Setenv(auth.AllowReadableKeyEnv, "")
	os.Chmod(path, 0o600)
	if _, err := auth.LoadPrivateKeyFile(path); err != nil {
		t.Fatalf("0600 key: %v", err)
	}
}
