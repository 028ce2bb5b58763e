package smartauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/retry"
	"github.com/dpcetl/dpcetl/extract/smartauth"
	"github.com/dpcetl/dpcetl/pipelines/logging"
	"github.com/golang-jwt/jwt/v5"
)

func sandbox(t *testing.T, d dpctest.Dialect, opts ...dpctest.Option) *dpctest.Server {
	t.Helper()
	base := []dpctest.Option{dpctest.WithDialect(d), dpctest.WithPatients(20), dpctest.WithJobDuration(300 * time.Millisecond)}
	srv := dpctest.NewServer(append(base, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// export runs a Patient-level export through hc and returns the manifest.
func export(t *testing.T, hc *http.Client, base, query string) (map[string]any, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/Patient/$export"+query, nil)
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "respond-async")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return nil, resp.StatusCode
	}
	status := resp.Header.Get("Content-Location")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		resp, err := hc.Get(status)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			return m, 200
		case http.StatusAccepted, http.StatusTooManyRequests:
			time.Sleep(100 * time.Millisecond)
		default:
			t.Fatalf("poll: %d %s", resp.StatusCode, b)
		}
	}
	t.Fatal("job did not complete")
	return nil, 0
}

func fileURLs(m map[string]any) []string {
	var out []string
	for _, o := range m["output"].([]any) {
		out = append(out, o.(map[string]any)["url"].(string))
	}
	return out
}

func get(t *testing.T, hc *http.Client, u string) (int, []byte) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func keyPair(t *testing.T, ec bool) crypto.Signer {
	t.Helper()
	if ec {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func register(t *testing.T, srv *dpctest.Server, key crypto.Signer, kid string) string {
	t.Helper()
	jwks, err := smartauth.PublicJWKS(key, kid)
	if err != nil {
		t.Fatal(err)
	}
	id, err := srv.RegisterJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSMARTDiscoveryAssertionAndExport(t *testing.T) {
	srv := sandbox(t, dpctest.DialectSMART)
	for _, ec := range []bool{false, true} {
		t.Run(fmt.Sprintf("ec=%v", ec), func(t *testing.T) {
			key := keyPair(t, ec)
			kid := "not-a-uuid-" + fmt.Sprint(ec) // any kid, not only UUIDs
			id := register(t, srv, key, kid)
			red := logging.NewRedactor()
			ts, err := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, kid, key), smartauth.WithRedactor(red.Add))
			if err != nil {
				t.Fatal(err)
			}
			u, err := ts.TokenURL(context.Background())
			if err != nil || u != srv.DialectTokenURL() {
				t.Fatalf("discovered %q, %v; want %s", u, err, srv.DialectTokenURL())
			}
			// The assertion's claims as a SMART server reads them.
			a, err := ts.Assertion(u, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			parsed, _, err := jwt.NewParser().ParseUnverified(a, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			c := parsed.Claims.(jwt.MapClaims)
			wantAlg := map[bool]string{false: "RS384", true: "ES384"}[ec]
			if aud, ok := c["aud"].(string); !ok || aud != u || c["iss"] != id || c["sub"] != id || parsed.Header["kid"] != kid || parsed.Header["alg"] != wantAlg {
				t.Fatalf("assertion header %v claims %v", parsed.Header, c)
			}
			tok, err := ts.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if ts.GrantedScope() != "system/*.read" {
				t.Fatalf("granted %q", ts.GrantedScope())
			}
			if got := red.String("log: " + tok); strings.Contains(got, tok) {
				t.Fatalf("redactor did not learn the access token: %s", got)
			}
			hc := &http.Client{Transport: ts.Transport(nil)}
			m, code := export(t, hc, srv.DialectBaseURL(), "")
			if code != 200 {
				t.Fatalf("kick-off %d", code)
			}
			for _, f := range fileURLs(m) {
				if code, _ := get(t, hc, f); code != 200 {
					t.Fatalf("file %s: %d", f, code)
				}
			}
			if ts.Fetches() != 1 {
				t.Fatalf("fetches %d, want 1 (cached)", ts.Fetches())
			}
		})
	}
}

func TestSMARTScopes(t *testing.T) {
	srv := sandbox(t, dpctest.DialectSMART)
	key := keyPair(t, false)
	id := register(t, srv, key, "k1")
	ts, err := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, "k1", key, "system/Patient.read"))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: ts.Transport(nil)}
	if _, code := export(t, hc, srv.DialectBaseURL(), "?_type=ExplanationOfBenefit"); code != http.StatusForbidden {
		t.Fatalf("EOB with a Patient scope: %d, want 403", code)
	}
	if ts.GrantedScope() != "system/Patient.read" {
		t.Fatalf("granted %q", ts.GrantedScope())
	}
	if _, code := export(t, hc, srv.DialectBaseURL(), "?_type=Patient"); code != 200 {
		t.Fatalf("Patient export %d", code)
	}
	// A key the server does not know: the error is ErrAuth and names no secret.
	other := keyPair(t, false)
	ts2, _ := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, "k1", other))
	_, err = ts2.Token(context.Background())
	if !errors.Is(err, extract.ErrAuth) || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), "eyJ") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	rsaKey, ecKey := keyPair(t, false), keyPair(t, true)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name string
		cfg  smartauth.Config
		want string
	}{
		{"relative base", smartauth.SMART("fhir", "c", "k", rsaKey), "absolute"},
		{"no client", smartauth.SMART("http://127.0.0.1:1/fhir", "", "k", rsaKey), "client id"},
		{"no kid", smartauth.SMART("http://127.0.0.1:1/fhir", "c", "", rsaKey), "kid"},
		{"wrong alg", smartauth.Config{FHIRBaseURL: "http://127.0.0.1:1", ClientID: "c", KeyID: "k", Key: rsaKey, Alg: "ES384"}, "RS384 for RSA"},
		{"wrong alg EC", smartauth.Config{FHIRBaseURL: "http://127.0.0.1:1", ClientID: "c", KeyID: "k", Key: ecKey, Alg: "RS384"}, "ES384"},
		{"P-256", smartauth.SMART("http://127.0.0.1:1/fhir", "c", "k", p256), "P-384"},
		{"nothing", smartauth.Config{FHIRBaseURL: "http://127.0.0.1:1", ClientID: "c"}, "private key or a client secret"},
		{"both", smartauth.Config{FHIRBaseURL: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s", Key: rsaKey}, "not both"},
		{"secret without token URL", smartauth.Config{FHIRBaseURL: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s"}, "token URL"},
	}
	for _, tc := range tests {
		if _, err := smartauth.NewTokenSource(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	c := smartauth.BCDA("http://127.0.0.1:1/api/v2", "id", "topsecret-value")
	if s := fmt.Sprintf("%v %#v", c, c); strings.Contains(s, "topsecret-value") {
		t.Fatalf("config prints its secret: %s", s)
	}
}

func TestBCDAClientCredentials(t *testing.T) {
	srv := sandbox(t, dpctest.DialectBCDA)
	id, secret := srv.NewSecretClient()
	now := time.Now()
	clock := func() time.Time { return now }
	cfg := smartauth.BCDA(srv.DialectBaseURL(), id, secret)
	if cfg.TokenURL != srv.DialectTokenURL() {
		t.Fatalf("token URL %s, want %s", cfg.TokenURL, srv.DialectTokenURL())
	}
	red := logging.NewRedactor()
	ts, err := smartauth.NewTokenSource(cfg, smartauth.WithClock(clock), smartauth.WithRedactor(red.Add))
	if err != nil {
		t.Fatal(err)
	}
	if got := red.String("secret=" + secret); strings.Contains(got, secret) {
		t.Fatal("redactor did not learn the client secret")
	}
	hc := &http.Client{Transport: ts.Transport(nil)}
	m, code := export(t, hc, srv.DialectBaseURL(), "")
	if code != 200 {
		t.Fatalf("kick-off %d", code)
	}
	if code, _ := get(t, hc, fileURLs(m)[0]); code != 200 {
		t.Fatalf("file %d", code)
	}
	// expires_in arrives as the string "1200": the token lives 20 minutes, not the 5-minute fallback.
	now = now.Add(10 * time.Minute)
	if _, err := ts.Token(context.Background()); err != nil || ts.Fetches() != 1 {
		t.Fatalf("after 10 min: fetches %d, %v (the string expires_in was not read)", ts.Fetches(), err)
	}
	now = now.Add(10 * time.Minute)
	if _, err := ts.Token(context.Background()); err != nil || ts.Fetches() != 2 {
		t.Fatalf("after 20 min: fetches %d, %v", ts.Fetches(), err)
	}
	bad, _ := smartauth.NewTokenSource(smartauth.BCDA(srv.DialectBaseURL(), id, "wrong-secret-123"))
	if _, err := bad.Token(context.Background()); !errors.Is(err, extract.ErrAuth) || strings.Contains(err.Error(), "wrong-secret-123") {
		t.Fatalf("err = %v", err)
	}
}

func TestAB2DClientCredentials(t *testing.T) {
	srv := sandbox(t, dpctest.DialectAB2D)
	id, secret := srv.NewSecretClient()
	ts, err := smartauth.NewTokenSource(smartauth.AB2D(srv.DialectBaseURL(), srv.DialectTokenURL(), id, secret))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: ts.Transport(nil)}
	m, code := export(t, hc, srv.DialectBaseURL(), "")
	if code != 200 {
		t.Fatalf("kick-off %d", code)
	}
	if ts.GrantedScope() != "clientCreds" {
		t.Fatalf("scope %q", ts.GrantedScope())
	}
	if code, _ := get(t, hc, fileURLs(m)[0]); code != 200 {
		t.Fatalf("file %d", code)
	}
	// Without scope=clientCreds Okta refuses: ErrAuth, HTTP 400.
	cfg := smartauth.AB2D(srv.DialectBaseURL(), srv.DialectTokenURL(), id, secret)
	cfg.Scopes = nil
	ts2, _ := smartauth.NewTokenSource(cfg)
	if _, err := ts2.Token(context.Background()); !errors.Is(err, extract.ErrAuth) || !strings.Contains(err.Error(), "invalid_scope") {
		t.Fatalf("err = %v", err)
	}
}

// freePort reserves a loopback port for a server that must know its own name first.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):]
}

// The manifest names files on another origin (localhost vs 127.0.0.1): the bearer
// goes there only when the config allows that origin.
func TestBearerOnlyToOwnOrigin(t *testing.T) {
	for _, open := range []bool{false, true} {
		t.Run(fmt.Sprintf("open=%v", open), func(t *testing.T) {
			port := freePort(t)
			opts := []dpctest.Option{dpctest.WithDialect(dpctest.DialectSMART), dpctest.WithPatients(10),
				dpctest.WithJobDuration(200 * time.Millisecond), dpctest.WithFileHost("localhost:" + port)}
			if open {
				opts = append(opts, dpctest.WithOpenFiles())
			}
			srv, err := dpctest.Listen("127.0.0.1:"+port, opts...)
			if err != nil {
				t.Fatalf("port %s taken meanwhile: %v", port, err)
			}
			defer srv.Close()
			key := keyPair(t, false)
			id := register(t, srv, key, "k")
			ts, _ := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, "k", key))
			hc := &http.Client{Transport: ts.Transport(nil)}
			m, code := export(t, hc, srv.DialectBaseURL(), "?_type=Patient")
			if code != 200 {
				t.Fatalf("kick-off %d", code)
			}
			f := fileURLs(m)[0]
			if !strings.HasPrefix(f, "http://localhost:"+port+"/") {
				t.Fatalf("file URL %s", f)
			}
			code, _ = get(t, hc, f)
			want := map[bool]int{false: http.StatusUnauthorized, true: http.StatusOK}[open]
			if code != want || srv.FileRequestsWithBearer() != 0 {
				t.Fatalf("file on another origin: %d (want %d), bearer sent %d times", code, want, srv.FileRequestsWithBearer())
			}
			if open {
				return
			}
			// Allowed explicitly, the same request carries the bearer.
			ts2, _ := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, "k", key), smartauth.WithExtraHosts("http://localhost:"+port))
			hc2 := &http.Client{Transport: ts2.Transport(nil)}
			m, _ = export(t, hc2, srv.DialectBaseURL(), "?_type=Patient")
			if code, _ := get(t, hc2, fileURLs(m)[0]); code != 200 || srv.FileRequestsWithBearer() != 1 {
				t.Fatalf("allowed origin: %d, bearer %d", code, srv.FileRequestsWithBearer())
			}
		})
	}
}

func TestParsePrivateKey(t *testing.T) {
	if _, err := smartauth.ParsePrivateKey([]byte("nope")); err == nil {
		t.Fatal("non-PEM accepted")
	}
	rk, ek := keyPair(t, false).(*rsa.PrivateKey), keyPair(t, true).(*ecdsa.PrivateKey)
	p8r, _ := x509.MarshalPKCS8PrivateKey(rk)
	p8e, _ := x509.MarshalPKCS8PrivateKey(ek)
	sec1, _ := x509.MarshalECPrivateKey(ek)
	for name, blk := range map[string]*pem.Block{
		"pkcs8 rsa": {Type: "PRIVATE KEY", Bytes: p8r}, "pkcs1": {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)},
		"pkcs8 ec": {Type: "PRIVATE KEY", Bytes: p8e}, "sec1": {Type: "EC PRIVATE KEY", Bytes: sec1},
	} {
		k, err := smartauth.ParsePrivateKey(pem.EncodeToMemory(blk))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := crypto.PublicKey(&rk.PublicKey)
		if strings.Contains(name, "ec") || name == "sec1" {
			want = &ek.PublicKey
		}
		if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(want) {
			t.Fatalf("%s: wrong key", name)
		}
	}
	if _, err := smartauth.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})); err == nil || !strings.Contains(err.Error(), "PKCS#8") {
		t.Fatalf("junk: %v", err)
	}
}

// A token the server stopped honouring (its clock moved past the expiry, ours did
// not): the transport takes the 401, fetches a new token once and retries.
func TestTransportRefreshesOn401(t *testing.T) {
	srv := sandbox(t, dpctest.DialectBCDA)
	id, secret := srv.NewSecretClient()
	ts, _ := smartauth.NewTokenSource(smartauth.BCDA(srv.DialectBaseURL(), id, secret))
	hc := &http.Client{Transport: ts.Transport(nil)}
	if code, b := get(t, hc, srv.DialectBaseURL()+"/jobs/999"); code != http.StatusNotFound {
		t.Fatalf("first call %d %s", code, b)
	}
	srv.Clock().Advance(21 * time.Minute)
	if code, b := get(t, hc, srv.DialectBaseURL()+"/jobs/999"); code != http.StatusNotFound || ts.Fetches() != 2 {
		t.Fatalf("after server-side expiry: %d %s, fetches %d (want 404 and 2)", code, b, ts.Fetches())
	}
}

// tokenSource is what the pipeline uses of extract/auth.TokenSource; smartauth's
// must be a drop-in for it.
type tokenSource interface {
	Token(context.Context) (string, error)
	Invalidate(string)
	Authorized(*url.URL) bool
	Transport(http.RoundTripper) http.RoundTripper
	Fetches() int
}

var (
	_ tokenSource = (*auth.TokenSource)(nil)
	_ tokenSource = (*smartauth.TokenSource)(nil)
)

// A server that takes only RS384: an ES384 client learns it at discovery, with both named.
func TestDiscoveryRefusesUnsupportedAlg(t *testing.T) {
	srv := sandbox(t, dpctest.DialectSMART, dpctest.WithSigningAlgs("RS384"))
	key := keyPair(t, true)
	id := register(t, srv, key, "k")
	ts, err := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, "k", key))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token(context.Background())
	if !errors.Is(err, extract.ErrAuth) || !strings.Contains(err.Error(), `["RS384"], not ES384`) {
		t.Fatalf("err = %v", err)
	}
	// Discovery under a base with no smart-configuration: an error naming the URL.
	ts2, _ := smartauth.NewTokenSource(smartauth.SMART(srv.URL+"/nothing", id, "k", key))
	if _, err := ts2.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "/nothing/.well-known/smart-configuration: HTTP 404") {
		t.Fatalf("err = %v", err)
	}
}

// A local clock 10 minutes off either way makes every assertion expired or too far ahead
// on the server's clock: the first refusal's Date header corrects it, once, and the
// events say by how much.
func TestSMARTAssertionCorrectsClockSkew(t *testing.T) {
	for _, off := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(off.String(), func(t *testing.T) {
			srv := sandbox(t, dpctest.DialectSMART)
			srv.Clock().Advance(off)
			key := keyPair(t, false)
			id := register(t, srv, key, "kid-1")
			var events []extract.Event
			ts, err := smartauth.NewTokenSource(smartauth.SMART(srv.DialectBaseURL(), id, "kid-1", key),
				smartauth.WithProgress(func(e extract.Event) { events = append(events, e) }))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Token(context.Background()); err != nil {
				t.Fatalf("token with the server %s away: %v", off, err)
			}
			if d := ts.Skew() - off; d < -2*time.Second || d > 2*time.Second {
				t.Fatalf("skew %s, want about %s", ts.Skew(), off)
			}
			if len(events) != 1 || events[0].Kind != extract.EventClockSkew {
				t.Fatalf("events %+v, want one clock-skew event", events)
			}
		})
	}
}

// A client-credentials token is not signed: a skewed clock is measured but never causes
// a second token request.
func TestClientCredentialsIgnoreSkew(t *testing.T) {
	srv := sandbox(t, dpctest.DialectBCDA)
	srv.Clock().Advance(time.Hour)
	id, secret := srv.NewSecretClient()
	ts, err := smartauth.NewTokenSource(smartauth.BCDA(srv.DialectBaseURL(), id, secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ts.Fetches() != 1 || ts.Skew() < 59*time.Minute {
		t.Fatalf("fetches %d skew %s", ts.Fetches(), ts.Skew())
	}
}

// A token endpoint that answers 503 once (BCDA's SSAS on a timeout) is tried again under
// WithRetry; without it the error is retryable for the caller.
func TestTokenRetriesTransientFailures(t *testing.T) {
	srv := sandbox(t, dpctest.DialectBCDA)
	id, secret := srv.NewSecretClient()
	target, _ := url.Parse(srv.URL)
	var calls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer front.Close()
	cfg := smartauth.BCDA(srv.DialectBaseURL(), id, secret)
	cfg.TokenURL = front.URL + "/auth/token"
	ts, _ := smartauth.NewTokenSource(cfg)
	if _, err := ts.Token(context.Background()); !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("one try: %v, want retryable", err)
	}
	calls.Store(0)
	ts, _ = smartauth.NewTokenSource(cfg, smartauth.WithRetry(retry.Policy{MaxAttempts: 3, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond}))
	if _, err := ts.Token(context.Background()); err != nil || calls.Load() != 2 {
		t.Fatalf("with retries: %v after %d calls", err, calls.Load())
	}
}
