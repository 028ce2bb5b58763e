package dpctest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/golang-jwt/jwt/v5"
)

func TestTokenAuthFailures(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	other := onboard(t, srv)
	wrongKey := genKey(t)

	form := func(edit func(v url.Values)) []byte {
		v, _ := url.ParseQuery(string(authForm(c.assertion(t, nil))))
		edit(v)
		return []byte(v.Encode())
	}
	withClaims := func(edit func(jwt.MapClaims, *jwt.Token)) []byte { return authForm(c.assertion(t, edit)) }
	replayed := c.assertion(t, nil)
	mustStatus(t, c.auth(t, authForm(replayed)), http.StatusOK)

	tests := []struct {
		name    string
		form    []byte
		status  int
		message string // plain JSON {"code","message"}; "" means the {"id","errors"} shape
	}{
		{"missing assertion", form(func(v url.Values) { v.Del("client_assertion") }), 400, ""},
		{"wrong grant type", form(func(v url.Values) { v.Set("grant_type", "password") }), 400, "Grant Type must be 'client_credentials'"},
		{"wrong scope", form(func(v url.Values) { v.Set("scope", "system/Patient.read") }), 400, "Access Scope must be 'system/*.*'"},
		{"wrong assertion type", form(func(v url.Values) { v.Set("client_assertion_type", "jwt") }), 400,
			"Client Assertion Type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'"},
		{"garbage assertion", form(func(v url.Values) { v.Set("client_assertion", "not.a.jwt") }), 401, "Invalid JWT"},
		{"iss differs from sub", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { cl["iss"] = "someone-else" }), 400, "Issuer and Subject must be identical"},
		{"no iss", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "iss") }), 400, "Claim issuer must be present"},
		{"no sub", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "sub") }), 401, "JWT must have client_id"},
		// DPC deserializes the client token without a handler for failure: a 500.
		{"malformed client token", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { cl["iss"], cl["sub"] = "not-a-macaroon", "not-a-macaroon" }), 500, "~There was an error processing your request"},
		{"unknown kid", withClaims(func(_ jwt.MapClaims, tk *jwt.Token) { tk.Header["kid"] = "6f1a4c8e-0000-4000-8000-000000000000" }), 401,
			"Cannot find public key with id: 6f1a4c8e-0000-4000-8000-000000000000"},
		{"kid of another organization", withClaims(func(_ jwt.MapClaims, tk *jwt.Token) { tk.Header["kid"] = other.kid }), 401, "Cannot find public key with id: " + other.kid},
		{"bad signature", []byte(authFormSigned(t, c, wrongKey)), 401, "Invalid JWT"},
		{"wrong audience", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { cl["aud"] = "https://sandbox.dpc.cms.gov/api/v1/Token/auth" }), 401, "Invalid JWT"},
		{"expired", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { cl["exp"] = srv.Clock().Now().Add(-time.Minute).Unix() }), 401, "Invalid JWT"},
		{"no exp", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "exp") }), 400, "Claim expiration must be present"},
		{"exp too far ahead", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { cl["exp"] = srv.Clock().Now().Add(6 * time.Minute).Unix() }), 401, "Not authorized"},
		{"no jti", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "jti") }), 400, "Claim id must be present"},
		{"replayed jti", authForm(replayed), 401, "Invalid JWT"},
		// The organization caveat is read unverified, so the kid must belong to the forged org.
		{"forged client token", withClaims(func(cl jwt.MapClaims, _ *jwt.Token) {
			f := forgeOrg(t, c.clientToken, other.orgID)
			cl["iss"], cl["sub"] = f, f
		}), 401, "Cannot find public key with id: " + c.kid},
		{"HS256 with public key", []byte(hs256Form(t, c)), 401, "Invalid JWT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.auth(t, tc.form)
			mustStatus(t, r, tc.status)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q: auth errors are plain JSON, not FHIR", ct)
			}
			body := r.json(t)
			if tc.message == "" {
				if errs, ok := body["errors"].([]any); !ok || len(errs) == 0 || body["id"] == nil {
					t.Errorf("want {\"id\",\"errors\"} body, got %s", r.body)
				}
				return
			}
			msg, _ := body["message"].(string)
			if want, prefix := strings.CutPrefix(tc.message, "~"); prefix && strings.HasPrefix(msg, want) && body["code"] == float64(tc.status) {
				return
			}
			if msg != tc.message || body["code"] != float64(tc.status) {
				t.Errorf("body %s, want code %d message %q", r.body, tc.status, tc.message)
			}
		})
	}
}

func authFormSigned(t *testing.T, c *client, key any) string {
	t.Helper()
	now := c.srv.Clock().Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS384, jwt.MapClaims{
		"iss": c.clientToken, "sub": c.clientToken, "aud": c.srv.BaseURL() + "/Token/auth",
		"exp": now.Add(time.Minute).Unix(), "jti": "bad-sig-" + now.String()})
	tok.Header["kid"] = c.kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(authForm(s))
}

// hs256Form tries the classic alg confusion: HMAC keyed with the public key PEM.
func hs256Form(t *testing.T, c *client) string {
	t.Helper()
	now := c.srv.Clock().Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": c.clientToken, "sub": c.clientToken, "aud": c.srv.BaseURL() + "/Token/auth",
		"exp": now.Add(time.Minute).Unix(), "jti": "hs-" + now.String()})
	tok.Header["kid"] = c.kid
	s, err := tok.SignedString([]byte(publicPEM(t, &c.key.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	return string(authForm(s))
}

// forgeOrg rewrites the organization caveat of a client token without the server secret.
func forgeOrg(t *testing.T, tok, orgID string) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	var ms []map[string]any
	if err := json.Unmarshal(raw, &ms); err != nil {
		t.Fatal(err)
	}
	for _, cv := range ms[0]["c"].([]any) {
		m := cv.(map[string]any)
		if strings.HasPrefix(m["i"].(string), "organization_id = ") {
			m["i"] = "organization_id = " + orgID
		}
	}
	b, _ := json.Marshal(ms)
	return base64.URLEncoding.EncodeToString(b)
}

func TestClientTokenFormat(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	if !strings.HasPrefix(c.clientToken, "W3sidiI6Mi") {
		t.Fatalf("client token %q does not start W3sidiI6Mi", c.clientToken[:20])
	}
	raw, err := base64.URLEncoding.DecodeString(c.clientToken)
	if err != nil {
		t.Fatalf("client token is not padded base64url: %v", err)
	}
	var ms []struct {
		V int `json:"v"`
		C []struct {
			I string `json:"i"`
		} `json:"c"`
		S64 string `json:"s64"`
	}
	if err := json.Unmarshal(raw, &ms); err != nil || len(ms) != 1 || ms[0].V != 2 || ms[0].S64 == "" {
		t.Fatalf("not a v2 macaroon array: %s", raw)
	}
	var caveats []string
	for _, cv := range ms[0].C {
		caveats = append(caveats, cv.I)
	}
	joined := strings.Join(caveats, "|")
	for _, want := range []string{"dpc_macaroon_version = 2", "expires = ", "organization_id = " + c.orgID} {
		if !strings.Contains(joined, want) {
			t.Errorf("caveats %q lack %q", caveats, want)
		}
	}
}

func TestAccessTokenExpiresAndBearer(t *testing.T) {
	srv := newServer(t, dpctest.WithTokenLifetime(time.Minute))
	c := onboard(t, srv)
	r := c.auth(t, authForm(c.assertion(t, nil)))
	mustStatus(t, r, http.StatusOK)
	body := r.json(t)
	if body["token_type"] != "bearer" || body["expires_in"] != float64(60) || body["scope"] != "system/*.*" {
		t.Fatalf("token body %s", r.body)
	}
	mustStatus(t, c.api(t, "GET", "/Organization", nil, nil), http.StatusOK)
	// ?token= works as well as the header.
	mustStatus(t, do(t, "GET", srv.BaseURL()+"/Organization?token="+url.QueryEscape(c.token), nil, nil), http.StatusOK)

	for name, hdr := range map[string]map[string]string{
		"no header":     {"Authorization": ""},
		"wrong token":   {"Authorization": "Bearer nope"},
		"client token":  {"Authorization": "Bearer " + c.clientToken},
		"basic instead": {"Authorization": "Basic " + c.token},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.api(t, "GET", "/Organization", nil, hdr)
			mustStatus(t, r, http.StatusUnauthorized)
			if r.json(t)["resourceType"] != "OperationOutcome" {
				t.Errorf("bearer failure body %s, want OperationOutcome", r.body)
			}
		})
	}
	srv.Clock().Advance(61 * time.Second)
	r = c.api(t, "GET", "/Organization", nil, nil)
	mustStatus(t, r, http.StatusUnauthorized)
	c.token = c.accessToken(t)
	mustStatus(t, c.api(t, "GET", "/Organization", nil, nil), http.StatusOK)
}

func TestClientTokenLifecycle(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	now := srv.Clock().Now()

	r := c.api(t, "POST", "/Token?label=vendor&expiration="+url.QueryEscape(now.Add(30*24*time.Hour).Format(time.RFC3339)), nil,
		map[string]string{"Accept": "application/json", "Content-Type": "application/json"})
	mustStatus(t, r, http.StatusOK)
	created := r.json(t)
	if created["tokenType"] != "MACAROON" || created["label"] != "vendor" || !strings.HasPrefix(created["token"].(string), "W3sidiI6Mi") {
		t.Fatalf("created token %s", r.body)
	}
	for name, exp := range map[string]string{
		"too long": now.Add(400 * 24 * time.Hour).Format(time.RFC3339),
		"past":     now.Add(-time.Hour).Format(time.RFC3339),
		"garbage":  "next-tuesday",
	} {
		r := c.api(t, "POST", "/Token?expiration="+url.QueryEscape(exp), nil, nil)
		mustStatus(t, r, http.StatusBadRequest)
		if r.json(t)["code"] != float64(400) {
			t.Errorf("%s: body %s", name, r.body)
		}
	}
	r = c.api(t, "GET", "/Token", nil, nil)
	mustStatus(t, r, http.StatusOK)
	list := r.json(t)
	if list["count"] != float64(2) || strings.Contains(string(r.body), "W3sidiI6Mi") {
		t.Fatalf("token list must have 2 entries and no secrets: %s", r.body)
	}
	id := created["id"].(string)
	mustStatus(t, c.api(t, "GET", "/Token/"+id, nil, nil), http.StatusOK)

	// The new token works until it is deleted.
	c2 := *c
	c2.clientToken = created["token"].(string)
	mustStatus(t, c2.auth(t, authForm(c2.assertion(t, nil))), http.StatusOK)
	mustStatus(t, c.api(t, "DELETE", "/Token/"+id, nil, nil), http.StatusNoContent)
	mustStatus(t, c.api(t, "DELETE", "/Token/"+id, nil, nil), http.StatusNotFound)
	// DPC's /Token/auth never checks the client token: a deleted one still gets an
	// access token, and every call made with it is 401.
	r = c2.auth(t, authForm(c2.assertion(t, nil)))
	mustStatus(t, r, http.StatusOK)
	c2.token = r.json(t)["access_token"].(string)
	mustStatus(t, c2.api(t, "GET", "/Organization", nil, nil), http.StatusUnauthorized)
	mustStatus(t, c2.api(t, "GET", "/Patient", nil, nil), http.StatusUnauthorized)

	// A client token expires on the server clock: same story.
	srv.Clock().Advance(366 * 24 * time.Hour)
	r = c.auth(t, authForm(c.assertion(t, nil)))
	mustStatus(t, r, http.StatusOK)
	c.token = r.json(t)["access_token"].(string)
	mustStatus(t, c.api(t, "GET", "/Organization", nil, nil), http.StatusUnauthorized)
}

// TestClientTokenCheckedAtAuth is the standard alternative: /Token/auth itself refuses
// deleted and expired client tokens.
func TestClientTokenCheckedAtAuth(t *testing.T) {
	srv := newServer(t, dpctest.WithClientTokenCheckedAtAuth())
	c := onboard(t, srv)
	mustStatus(t, c.auth(t, authForm(c.assertion(t, nil))), http.StatusOK)
	srv.Clock().Advance(366 * 24 * time.Hour)
	r := c.auth(t, authForm(c.assertion(t, nil)))
	mustStatus(t, r, http.StatusUnauthorized)
	if r.json(t)["message"] != "Invalid client token" {
		t.Errorf("body %s", r.body)
	}
}

func TestKeyUpload(t *testing.T) {
	srv := newServer(t, dpctest.WithMinKeyBits(2048))
	r := do(t, "POST", srv.URL+"/portal/Organization", []byte(`{"name":"K"}`), nil)
	mustStatus(t, r, http.StatusCreated)
	orgID := r.json(t)["id"].(string)
	keyURL := srv.URL + "/portal/Organization/" + orgID + "/Key?label=k"
	upload := func(key, sig string) response {
		b, _ := json.Marshal(map[string]string{"key": key, "signature": sig})
		return do(t, "POST", keyURL, b, nil)
	}
	small := genKey(t) // 1024 bits, below this server's minimum
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k2048, err := rsaKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	other := genKey(t)

	mustStatus(t, upload(publicPEM(t, &ec.PublicKey), "AAAA"), http.StatusUnprocessableEntity)
	mustStatus(t, upload(publicPEM(t, &small.PublicKey), signSnippet(t, small)), http.StatusBadRequest)
	mustStatus(t, upload(publicPEM(t, &k2048.PublicKey), signSnippet(t, other)), http.StatusBadRequest)
	mustStatus(t, upload("not a pem", signSnippet(t, k2048)), http.StatusBadRequest)
	long := do(t, "POST", srv.URL+"/portal/Organization/"+orgID+"/Key?label="+strings.Repeat("x", 26), nil, nil)
	mustStatus(t, long, http.StatusBadRequest)
	// openssl base64 wraps lines; the server accepts that.
	sig := signSnippet(t, k2048)
	wrapped := sig[:64] + "\n" + sig[64:] + "\n"
	r = upload(publicPEM(t, &k2048.PublicKey), wrapped)
	mustStatus(t, r, http.StatusOK)
	key := r.json(t)
	if key["label"] != "k" || !strings.Contains(key["publicKey"].(string), "BEGIN PUBLIC KEY") {
		t.Fatalf("key body %s", r.body)
	}
	mustStatus(t, do(t, "POST", srv.URL+"/portal/Organization/nope/Key", nil, nil), http.StatusNotFound)
}

func TestKeyEndpoints(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	k := genKey(t)
	b, _ := json.Marshal(map[string]string{"key": publicPEM(t, &k.PublicKey), "signature": signSnippet(t, k)})
	r := c.api(t, "POST", "/Key?label=second", b, map[string]string{"Content-Type": "application/json"})
	mustStatus(t, r, http.StatusOK)
	id := r.json(t)["id"].(string)
	r = c.api(t, "GET", "/Key", nil, nil)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["count"] != float64(2) {
		t.Fatalf("key list %s", r.body)
	}
	r = c.api(t, "GET", "/Key/"+id, nil, nil)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["label"] != "second" {
		t.Fatalf("key %s", r.body)
	}
	// A deleted key no longer verifies assertions.
	mustStatus(t, c.api(t, "DELETE", "/Key/"+c.kid, nil, nil), http.StatusOK)
	mustStatus(t, c.api(t, "GET", "/Key/"+c.kid, nil, nil), http.StatusNotFound)
	r = c.auth(t, authForm(c.assertion(t, nil)))
	mustStatus(t, r, http.StatusUnauthorized)
	c.kid, c.key = id, k
	mustStatus(t, c.auth(t, authForm(c.assertion(t, nil))), http.StatusOK)
}

func TestTokenValidate(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	validate := func(jwtText string) response {
		return do(t, "POST", srv.BaseURL()+"/Token/validate", []byte(jwtText), map[string]string{"Content-Type": "text/plain", "Accept": "application/json"})
	}
	r := validate(c.assertion(t, nil))
	mustStatus(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Errorf("200 body must be empty, got %s", r.body)
	}
	// The signature is not checked, nor whether the kid is known.
	mustStatus(t, validate(c.assertion(t, func(_ jwt.MapClaims, tk *jwt.Token) { tk.Header["kid"] = "6f1a4c8e-0000-4000-8000-000000000000" })), http.StatusOK)
	// TokenValidator's checks, with its words.
	used := c.assertion(t, nil)
	mustStatus(t, c.auth(t, authForm(used)), http.StatusOK)
	for name, tc := range map[string]struct {
		jwt, msg string
	}{
		"non-UUID kid":          {c.assertion(t, func(_ jwt.MapClaims, tk *jwt.Token) { tk.Header["kid"] = "whatever" }), "`kid` value must be a UUID"},
		"reused jti":            {used, "Token ID cannot be re-used"},
		"malformed token":       {c.assertion(t, func(cl jwt.MapClaims, _ *jwt.Token) { cl["iss"], cl["sub"] = "not-a-macaroon", "not-a-macaroon" }), "Client token is not formatted correctly"},
		"token id as the token": {c.assertion(t, func(cl jwt.MapClaims, _ *jwt.Token) { cl["iss"], cl["sub"] = c.kid, c.kid }), "Cannot use Token ID as `client_token`, must use actual token value"},
		"no exp":                {c.assertion(t, func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "exp") }), "Claim `expiration` must be present"},
		"no jti":                {c.assertion(t, func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "jti") }), "Claim `id` must be present"},
	} {
		r := validate(tc.jwt)
		mustStatus(t, r, http.StatusBadRequest)
		if got := r.json(t)["message"]; got != tc.msg {
			t.Errorf("%s: message %v, want %q", name, got, tc.msg)
		}
	}
	for name, edit := range map[string]func(jwt.MapClaims, *jwt.Token){
		"exp too far": func(cl jwt.MapClaims, _ *jwt.Token) { cl["exp"] = srv.Clock().Now().Add(time.Hour).Unix() },
		"no kid":      func(_ jwt.MapClaims, tk *jwt.Token) { delete(tk.Header, "kid") },
		"iss != sub":  func(cl jwt.MapClaims, _ *jwt.Token) { cl["sub"] = "x" },
		"no jti":      func(cl jwt.MapClaims, _ *jwt.Token) { delete(cl, "jti") },
		"wrong aud":   func(cl jwt.MapClaims, _ *jwt.Token) { cl["aud"] = "x" },
		"expired":     func(cl jwt.MapClaims, _ *jwt.Token) { cl["exp"] = srv.Clock().Now().Add(-time.Hour).Unix() },
	} {
		r := validate(c.assertion(t, edit))
		mustStatus(t, r, http.StatusBadRequest)
		if msg, _ := r.json(t)["message"].(string); msg == "" {
			t.Errorf("%s: no message in %s", name, r.body)
		}
	}
	r = validate(c.assertion(t, func(cl jwt.MapClaims, _ *jwt.Token) { cl["exp"] = srv.Clock().Now().Add(time.Hour).Unix() }))
	if r.json(t)["message"] != "Token expiration cannot be more than 5 minutes in the future" {
		t.Errorf("message %s", r.body)
	}
	mustStatus(t, validate("garbage"), http.StatusBadRequest)
}
