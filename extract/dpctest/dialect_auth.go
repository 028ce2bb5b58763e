package dpctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// dialectClient is a registered client of a non-DPC dialect: a secret (BCDA, AB2D) or
// public keys by kid (SMART).
type dialectClient struct {
	id, secret string
	keys       map[string]crypto.PublicKey
}

type dialectToken struct {
	client  string
	expires time.Time
	scopes  []string
}

// NewSecretClient registers a client-credentials client (BCDA, AB2D dialects) and
// returns its id and secret.
func (s *Server) NewSecretClient() (clientID, secret string) {
	clientID, secret = randomHex(16), randomHex(32)
	s.mu.Lock()
	s.dia.clients[clientID] = &dialectClient{id: clientID, secret: secret}
	s.mu.Unlock()
	return clientID, secret
}

// RegisterJWKS registers a SMART Backend Services client with the public keys of a
// JWK Set (RSA, or EC on P-384) and returns its client_id. Every key needs a kid.
func (s *Server) RegisterJWKS(jwks []byte) (string, error) {
	keys, err := parseJWKS(jwks)
	if err != nil {
		return "", err
	}
	id := "client-" + randomHex(8)
	s.mu.Lock()
	s.dia.clients[id] = &dialectClient{id: id, keys: keys}
	s.mu.Unlock()
	return id, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func parseJWKS(b []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("jwks: no keys")
	}
	out := map[string]crypto.PublicKey{}
	dec := base64.RawURLEncoding
	for i, k := range set.Keys {
		if k.Kid == "" {
			return nil, fmt.Errorf("jwks: key %d has no kid", i)
		}
		switch k.Kty {
		case "RSA":
			n, err1 := dec.DecodeString(k.N)
			e, err2 := dec.DecodeString(k.E)
			if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("jwks: key %q: bad n or e", k.Kid)
			}
			out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		case "EC":
			if k.Crv != "P-384" {
				return nil, fmt.Errorf("jwks: key %q: curve %q (want P-384)", k.Kid, k.Crv)
			}
			x, err1 := dec.DecodeString(k.X)
			y, err2 := dec.DecodeString(k.Y)
			if err1 != nil || err2 != nil || len(x) != 48 || len(y) != 48 {
				return nil, fmt.Errorf("jwks: key %q: bad x or y", k.Kid)
			}
			pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), append(append([]byte{4}, x...), y...))
			if err != nil {
				return nil, fmt.Errorf("jwks: key %q: %w", k.Kid, err)
			}
			out[k.Kid] = pk
		default:
			return nil, fmt.Errorf("jwks: key %q: kty %q (want RSA or EC)", k.Kid, k.Kty)
		}
	}
	return out, nil
}

// oauthError writes an RFC 6749 error body, the shape of SMART and Okta token errors.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, "application/json", map[string]any{"error": code, "error_description": desc})
}

// secretTokenAuth is BCDA's POST /auth/token and AB2D's Okta token call: HTTP Basic
// client id and secret. BCDA answers 400 without Basic credentials and sends expires_in
// as a JSON string (bcda/auth/api.go, bcda/auth/client/ssas.go); Okta wants
// grant_type=client_credentials and scope=clientCreds.
func (s *Server) secretTokenAuth(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		if s.cfg.dialect == DialectBCDA {
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		} else {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		}
		return
	}
	var scopes []string
	if s.cfg.dialect == DialectAB2D {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
			return
		}
		if r.PostForm.Get("scope") != "clientCreds" {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
			return
		}
		scopes = []string{"clientCreds"}
	}
	s.mu.Lock()
	c, known := s.dia.clients[id]
	s.mu.Unlock()
	if !known || c.secret == "" || !constantTimeEqual(c.secret, secret) {
		if s.cfg.dialect == DialectBCDA {
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		} else {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "The client secret supplied for a confidential client is invalid.")
		}
		return
	}
	tok, life := s.issueDialectToken(id, scopes)
	if s.cfg.dialect == DialectBCDA {
		writeJSON(w, http.StatusOK, "application/json", map[string]any{
			"access_token": tok, "expires_in": strconv.Itoa(life), "token_type": "bearer"})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": tok, "expires_in": life, "token_type": "Bearer", "scope": "clientCreds"})
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range len(a) {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

func (s *Server) issueDialectToken(client string, scopes []string) (string, int) {
	tok := randomHex(32)
	now := s.clock.Now()
	s.mu.Lock()
	s.dia.tokens[tok] = dialectToken{client: client, expires: now.Add(s.cfg.tokenLifetime), scopes: scopes}
	s.mu.Unlock()
	return tok, int(s.cfg.tokenLifetime / time.Second)
}

// scopePattern is a SMART v1 or v2 system scope.
var scopePattern = regexp.MustCompile(`^system/(\*|[A-Z][A-Za-z]+)\.(read|\*|[cruds]+)$`)

// smartToken is the SMART Backend Services token endpoint: a client_credentials grant
// with a private_key_jwt assertion (iss = sub = client_id, aud = this URL as a string,
// kid naming a registered key, RS384 or ES384, exp at most 5 minutes ahead, unique jti).
func (s *Server) smartToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "form body expected")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	}
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		return
	}
	var scopes []string
	for _, sc := range strings.Fields(f.Get("scope")) {
		if !scopePattern.MatchString(sc) {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "unsupported scope "+strconv.Quote(sc))
			return
		}
		scopes = append(scopes, sc)
	}
	if len(scopes) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "scope is required")
		return
	}
	client, err := s.verifySMARTAssertion(f.Get("client_assertion"), "http://"+r.Host+smartPrefix+"/token")
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	tok, life := s.issueDialectToken(client, scopes)
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": life, "scope": strings.Join(scopes, " ")})
}

func (s *Server) verifySMARTAssertion(assertion, aud string) (string, error) {
	now := s.clock.Now()
	var claims jwt.MapClaims
	var client *dialectClient
	p := jwt.NewParser(jwt.WithValidMethods(s.signingAlgs()), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second))
	_, err := p.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		iss, _ := claims["iss"].(string)
		s.mu.Lock()
		client = s.dia.clients[iss]
		s.mu.Unlock()
		if client == nil || client.keys == nil {
			return nil, errors.New("unknown client " + strconv.Quote(iss))
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := client.keys[kid]
		if !ok {
			return nil, errors.New("no registered key with kid " + strconv.Quote(kid))
		}
		return k, nil
	})
	if err != nil {
		return "", fmt.Errorf("client_assertion: %w", err)
	}
	sub, _ := claims["sub"].(string)
	if sub != client.id {
		return "", errors.New("client_assertion: sub must equal iss (the client_id)")
	}
	// The aud a SMART client sends is a string; this server, like the one in issue 15,
	// does not take an array.
	a, isString := claims["aud"].(string)
	if !isString {
		return "", errors.New("client_assertion: aud must be a string (the token URL)")
	}
	if a != aud {
		return "", fmt.Errorf("client_assertion: aud %q is not the token URL %q", a, aud)
	}
	exp, _ := claims.GetExpirationTime()
	if exp.After(now.Add(5*time.Minute + 30*time.Second)) {
		return "", errors.New("client_assertion: exp more than 5 minutes ahead")
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return "", errors.New("client_assertion: jti is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := client.id + "|" + jti
	if _, seen := s.dia.jtis[key]; seen {
		return "", errors.New("client_assertion: jti already used")
	}
	s.dia.jtis[key] = exp.Time
	return client.id, nil
}

// dialectAuthed checks the bearer of a dialect API call.
func (s *Server) dialectAuthed(h func(http.ResponseWriter, *http.Request, dialectToken)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := s.dialectBearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			writeOO(w, http.StatusUnauthorized, "security", "Invalid or expired access token")
			return
		}
		h(w, r, tok)
	}
}

func (s *Server) dialectBearer(r *http.Request) (dialectToken, bool) {
	a := r.Header.Get("Authorization")
	if len(a) <= 7 || !strings.EqualFold(a[:7], "bearer ") {
		return dialectToken{}, false
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.dia.tokens[strings.TrimSpace(a[7:])]
	return t, ok && now.Before(t.expires)
}

// allowsType reports whether the token's scopes allow reading resource type typ.
func (t dialectToken) allowsType(typ string) bool {
	if t.scopes == nil || (len(t.scopes) == 1 && t.scopes[0] == "clientCreds") {
		return true
	}
	for _, sc := range t.scopes {
		m := scopePattern.FindStringSubmatch(sc)
		if m == nil || (m[1] != "*" && m[1] != typ) {
			continue
		}
		if m[2] == "read" || m[2] == "*" || strings.Contains(m[2], "r") {
			return true
		}
	}
	return false
}
