package dpctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Snippet is the text whose SHA256withRSA signature proves possession of the
// private key when a public key is uploaded.
const Snippet = "This is the snippet used to verify a key pair in DPC."

const (
	grantClientCredentials = "client_credentials"
	scopeSystem            = "system/*.*"
	assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	maxJWTLife             = 5 * time.Minute
	maxKeyLabel            = 25
)

type accessToken struct {
	orgID         string
	clientToken   string // the client token it was issued for, checked again on every call
	clientTokenID string
	expires       time.Time
}

// ---- portal ----

func (s *Server) portalCreateOrg(w http.ResponseWriter, r *http.Request) {
	var body struct{ Name, NPI string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "body must be JSON {\"name\":…,\"npi\":…}")
		return
	}
	if body.Name == "" {
		writeError(w, http.StatusBadRequest, "name is required")
		return
	}
	if body.NPI != "" && !validNPI(body.NPI) {
		writeError(w, http.StatusUnprocessableEntity, "npi is not a valid NPI")
		return
	}
	s.mu.Lock()
	o := newOrg(newUUID(), body.Name, body.NPI, s.clock.Now())
	s.orgs[o.id] = o
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, "application/json", map[string]string{"id": o.id, "name": o.name, "npi": o.npi})
}

func (s *Server) portalOrg(w http.ResponseWriter, r *http.Request) *org {
	s.mu.Lock()
	o := s.orgs[r.PathValue("org")]
	s.mu.Unlock()
	if o == nil {
		writeError(w, http.StatusNotFound, "organization not found")
	}
	return o
}

func (s *Server) portalCreateToken(w http.ResponseWriter, r *http.Request) {
	if o := s.portalOrg(w, r); o != nil {
		s.createToken(w, r, o)
	}
}

func (s *Server) portalCreateKey(w http.ResponseWriter, r *http.Request) {
	if o := s.portalOrg(w, r); o != nil {
		s.createKey(w, r, o)
	}
}

// ---- bearer ----

// authed wraps an API handler with the bearer-token check. The token comes from
// "Authorization: Bearer …" or, as DPC also allows, from "?token=".
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *org)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := ""
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			tok = strings.TrimSpace(a[7:])
		} else if q := r.URL.Query().Get("token"); q != "" {
			tok = q
		}
		now := s.clock.Now()
		s.mu.Lock()
		at, ok := s.accessTokens[tok]
		var o *org
		if ok && now.Before(at.expires) {
			o = s.orgs[at.orgID]
		}
		s.mu.Unlock()
		if o != nil && !s.clientTokenValid(at.clientToken, now) {
			o = nil // an expired, deleted or forged client token: DPC's 401 on every call
		}
		if o == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dpc"`)
			writeOO(w, http.StatusUnauthorized, "security", "HTTP 401 Unauthorized")
			return
		}
		h(w, r, o)
	}
}

// ---- client tokens ----

type tokenJSON struct {
	ID        string `json:"id"`
	TokenType string `json:"tokenType"`
	Label     string `json:"label"`
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
	Token     string `json:"token,omitempty"`
}

func tokenBody(t *clientToken, secret string) tokenJSON {
	return tokenJSON{ID: t.id, TokenType: "MACAROON", Label: t.label,
		CreatedAt: fhirTime(t.created), ExpiresAt: fhirTime(t.expires), Token: secret}
}

// parseISO accepts the ISO date-times users type: with offset, without (UTC) or a date.
func parseISO(v string) (time.Time, error) {
	for _, f := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(f, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO date-time: %q", v)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, o *org) {
	now := s.clock.Now()
	q := r.URL.Query()
	label := q.Get("label")
	if label == "" {
		label = "Token for organization " + o.id + "."
	}
	expires := now.Add(s.cfg.clientTokenMax)
	if e := q.Get("expiration"); e != "" {
		t, err := parseISO(e)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Expiration must be an ISO formatted date-time")
			return
		}
		if !t.After(now) {
			writeError(w, http.StatusBadRequest, "Cannot set expiration time in the past")
			return
		}
		if t.After(now.Add(s.cfg.clientTokenMax)) {
			writeError(w, http.StatusBadRequest, "Cannot set expiration time longer than "+humanDuration(s.cfg.clientTokenMax))
			return
		}
		expires = t
	}
	t := &clientToken{id: newUUID(), label: label, created: now, expires: expires}
	secret := mintClientToken(s.secret, s.BaseURL(), t.id, o.id, expires)
	s.mu.Lock()
	o.tokens[t.id] = t
	o.tokenOrder = append(o.tokenOrder, t.id)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", tokenBody(t, secret))
}

func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if d == 365*24*time.Hour {
			return "1 year"
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, o *org) {
	listEntities(s, w, &o.tokenOrder, o.tokens, func(t *clientToken) tokenJSON { return tokenBody(t, "") })
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request, o *org) {
	getEntity(s, w, r, o.tokens, "token", func(t *clientToken) tokenJSON { return tokenBody(t, "") })
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, o *org) {
	deleteEntity(s, w, r, o.tokens, "token", http.StatusNoContent)
}

// listEntities answers a DPC list (of client tokens or public keys): the entities still in
// byID, in order, each rendered by body under s.mu.
func listEntities[T, J any](s *Server, w http.ResponseWriter, order *[]string, byID map[string]T, body func(T) J) {
	s.mu.Lock()
	ents := make([]J, 0, len(*order))
	for _, id := range *order {
		if v, ok := byID[id]; ok {
			ents = append(ents, body(v))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"created_at": fhirTime(s.clock.Now()), "count": len(ents), "entities": ents})
}

// getEntity answers a DPC read of the entity named by the request's {id}, or 404
// "Cannot find <what>".
func getEntity[T, J any](s *Server, w http.ResponseWriter, r *http.Request, byID map[string]T, what string, body func(T) J) {
	s.mu.Lock()
	v, ok := byID[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Cannot find "+what)
		return
	}
	writeJSON(w, http.StatusOK, "application/json", body(v))
}

// deleteEntity removes the entity named by the request's {id}, or answers 404
// "Cannot find <what>".
func deleteEntity[T any](s *Server, w http.ResponseWriter, r *http.Request, byID map[string]T, what string, status int) {
	id := r.PathValue("id")
	s.mu.Lock()
	_, ok := byID[id]
	delete(byID, id)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Cannot find "+what)
		return
	}
	w.WriteHeader(status)
}

// ---- public keys ----

type keyJSON struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey"`
	CreatedAt string `json:"createdAt"`
	Label     string `json:"label"`
}

func keyBody(k *publicKey) keyJSON {
	return keyJSON{ID: k.id, PublicKey: k.pem, CreatedAt: fhirTime(k.created), Label: k.label}
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, o *org) {
	label := r.URL.Query().Get("label")
	if len(label) > maxKeyLabel {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Key label cannot be more than %d characters", maxKeyLabel))
		return
	}
	var body struct{ Key, Signature string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Key == "" {
		writeError(w, http.StatusBadRequest, "Body must be JSON with \"key\" (PEM public key) and \"signature\"")
		return
	}
	block, _ := pem.Decode([]byte(body.Key))
	if block == nil {
		writeError(w, http.StatusBadRequest, "Public key could not be parsed")
		return
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		err = fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Public key could not be parsed")
		return
	}
	var rk *rsa.PublicKey
	switch k := pub.(type) {
	case *rsa.PublicKey:
		rk = k
	case *ecdsa.PublicKey, ed25519.PublicKey:
		writeError(w, http.StatusUnprocessableEntity, "ECC keys are not currently supported")
		return
	default:
		writeError(w, http.StatusUnprocessableEntity, "Unsupported key type")
		return
	}
	if rk.N.BitLen() < s.cfg.minKeyBits {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Key length must be at least %d bits", s.cfg.minKeyBits))
		return
	}
	sig, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body.Signature), ""))
	if err != nil || len(sig) == 0 {
		writeError(w, http.StatusBadRequest, "Signature must be base64 encoded")
		return
	}
	digest := sha256.Sum256([]byte(Snippet))
	// DPC parses PKCS#1 ("RSA PUBLIC KEY") fine, but its signature check strips only the
	// "BEGIN PUBLIC KEY" markers (PublicKeyHandler.verifySignature), so such a key never verifies.
	if block.Type != "PUBLIC KEY" || rsa.VerifyPKCS1v15(rk, crypto.SHA256, digest[:], sig) != nil {
		writeError(w, http.StatusBadRequest, "Public key could not be verified")
		return
	}
	norm := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(rk)})
	k := &publicKey{id: newUUID(), label: label, pem: string(norm), orgID: o.id, key: rk, created: s.clock.Now()}
	s.mu.Lock()
	o.keys[k.id] = k
	o.keyOrder = append(o.keyOrder, k.id)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", keyBody(k))
}

func mustPKIX(k *rsa.PublicKey) []byte {
	b, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err) // an RSA public key always marshals
	}
	return b
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, o *org) {
	listEntities(s, w, &o.keyOrder, o.keys, keyBody)
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request, o *org) {
	getEntity(s, w, r, o.keys, "public key", keyBody)
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request, o *org) {
	deleteEntity(s, w, r, o.keys, "public key", http.StatusOK)
}

// ---- /Token/auth ----

// Error messages of /Token/auth; tests compare against them.
const (
	msgInvalidJWT   = "Invalid JWT"
	msgIssSub       = "Issuer and Subject must be identical"
	msgExpTooFar    = "Not authorized" // TokenResource.handleJWTClaims; /Token/validate words it differently
	msgValidateExp  = "Token expiration cannot be more than 5 minutes in the future"
	msgGrantType    = "Grant Type must be 'client_credentials'"
	msgScope        = "Access Scope must be 'system/*.*'"
	msgAssertType   = "Client Assertion Type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'"
	msgUnknownKey   = "Cannot find public key"
	msgInvalidToken = "Invalid client token"
)

func (s *Server) tokenAuth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeValidationErrors(w, http.StatusBadRequest, "body must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	var missing []string
	for _, p := range []string{"grant_type", "scope", "client_assertion_type", "client_assertion"} {
		if f.Get(p) == "" {
			missing = append(missing, p+" must not be empty")
		}
	}
	if len(missing) > 0 {
		writeValidationErrors(w, http.StatusBadRequest, missing...)
		return
	}
	// The order of DPC's checks (TokenResource.authorizeJWT, handleJWT, handleJWTClaims).
	switch {
	case f.Get("grant_type") != grantClientCredentials:
		writeError(w, http.StatusBadRequest, msgGrantType)
		return
	case f.Get("client_assertion_type") != assertionTypeJWTBearer:
		writeError(w, http.StatusBadRequest, msgAssertType)
		return
	case f.Get("scope") != scopeSystem:
		writeError(w, http.StatusBadRequest, msgScope)
		return
	}
	assertion := f.Get("client_assertion")
	now := s.clock.Now()

	unverified, _, err := jwt.NewParser().ParseUnverified(assertion, jwt.MapClaims{})
	if err != nil {
		writeError(w, http.StatusUnauthorized, msgInvalidJWT)
		return
	}
	claims := unverified.Claims.(jwt.MapClaims)
	sub, _ := claims["sub"].(string)
	if sub == "" {
		writeError(w, http.StatusUnauthorized, "JWT must have client_id")
		return
	}
	// DPC only deserializes the client token here to read organization_id: a token that
	// does not deserialize is an unhandled BakeryException (500), and an expired, deleted
	// or forged one is not noticed until the access token is used.
	tokID, orgID, ok := peekClientToken(sub)
	if !ok {
		writeError(w, http.StatusInternalServerError, "There was an error processing your request. It has been logged (ID "+newUUID()[:16]+").")
		return
	}
	if orgID == "" {
		writeError(w, http.StatusUnauthorized, "JWT client token must have organization_id")
		return
	}
	kid, _ := unverified.Header["kid"].(string)
	s.mu.Lock()
	o := s.orgs[orgID]
	var key *publicKey
	if o != nil {
		key = o.keys[kid]
	}
	s.mu.Unlock()
	if key == nil {
		writeError(w, http.StatusUnauthorized, msgUnknownKey+" with id: "+kid)
		return
	}
	if s.cfg.checkTokenAtAuth && !s.clientTokenValid(sub, now) {
		writeError(w, http.StatusUnauthorized, msgInvalidToken)
		return
	}
	parsed, err := jwt.Parse(assertion, func(*jwt.Token) (any, error) { return key.key, nil },
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}),
		jwt.WithTimeFunc(s.clock.Now))
	if err != nil || !parsed.Valid || !s.audienceOK(r, claims) {
		writeError(w, http.StatusUnauthorized, msgInvalidJWT)
		return
	}
	iss, _ := claims["iss"].(string)
	if iss == "" {
		writeError(w, http.StatusBadRequest, "Claim issuer must be present")
		return
	}
	if iss != sub {
		writeError(w, http.StatusBadRequest, msgIssSub)
		return
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		writeError(w, http.StatusBadRequest, "Claim id must be present")
		return
	}
	s.mu.Lock()
	if until, seen := s.jtis[jti]; seen && now.Before(until) {
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, msgInvalidJWT)
		return
	}
	s.jtis[jti] = now.Add(maxJWTLife)
	s.mu.Unlock()
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		writeError(w, http.StatusBadRequest, "Claim expiration must be present")
		return
	}
	if exp.Time.After(now.Add(maxJWTLife)) {
		writeError(w, http.StatusUnauthorized, msgExpTooFar)
		return
	}
	tok := randomToken()
	s.mu.Lock()
	s.accessTokens[tok] = accessToken{orgID: o.id, clientToken: sub, clientTokenID: tokID, expires: now.Add(s.cfg.tokenLifetime)}
	s.pruneLocked(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": tok,
		"token_type":   "bearer",
		"expires_in":   int(s.cfg.tokenLifetime / time.Second),
		"scope":        scopeSystem,
	})
}

// clientTokenValid is the check DPC makes on every authenticated call (DPCAuthFilter):
// the macaroon verifies, has not expired and was not deleted.
func (s *Server) clientTokenValid(tok string, now time.Time) bool {
	id, orgID, _, err := parseClientToken(s.secret, tok, now)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[orgID]
	if o == nil {
		return false
	}
	_, ok := o.tokens[id]
	return ok
}

// audienceOK accepts exactly one audience equal to {base}/Token/auth, where base
// is the server's BaseURL or the base the client addressed.
func (s *Server) audienceOK(r *http.Request, c jwt.MapClaims) bool {
	aud, err := c.GetAudience()
	if err != nil || len(aud) != 1 {
		return false
	}
	return aud[0] == s.BaseURL()+"/Token/auth" || aud[0] == s.apiBase(r)+"/Token/auth"
}

// pruneLocked forgets expired jtis and access tokens so long runs stay bounded.
func (s *Server) pruneLocked(now time.Time) {
	if len(s.jtis)+len(s.accessTokens) < 1024 {
		return
	}
	for k, t := range s.jtis {
		if !now.Before(t) {
			delete(s.jtis, k)
		}
	}
	for k, t := range s.accessTokens {
		if !now.Before(t.expires) {
			delete(s.accessTokens, k)
		}
	}
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ---- /Token/validate ----

// tokenValidate checks the claims of a JWT without its signature, in the order and
// with the words of DPC's TokenValidator: header kid (present, a UUID), exp (present,
// not past, at most 5 minutes ahead), iss, jti (present, not used before), sub = iss,
// aud, and finally that iss is a client token (not a token id, and deserializable).
func (s *Server) tokenValidate(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read body")
		return
	}
	tok, _, err := jwt.NewParser().ParseUnverified(strings.Trim(strings.TrimSpace(string(b)), `"`), jwt.MapClaims{})
	if err != nil {
		writeError(w, http.StatusBadRequest, "JWT is not formatted correctly")
		return
	}
	c := tok.Claims.(jwt.MapClaims)
	now := s.clock.Now()
	kid, _ := tok.Header["kid"].(string)
	iss, _ := c["iss"].(string)
	sub, _ := c["sub"].(string)
	jti, _ := c["jti"].(string)
	exp, expErr := c.GetExpirationTime()
	fail := func(msg string) { writeError(w, http.StatusBadRequest, msg) }
	switch {
	case kid == "":
		fail("JWT header must have `kid` value")
		return
	case !uuidPattern.MatchString(kid):
		fail("`kid` value must be a UUID")
		return
	case expErr != nil || exp == nil:
		fail("Claim `expiration` must be present")
		return
	case now.After(exp.Time):
		fail("JWT is expired")
		return
	case exp.Time.After(now.Add(maxJWTLife)):
		fail(msgValidateExp)
		return
	case iss == "":
		fail("Claim `issuer` must be present")
		return
	case jti == "":
		fail("Claim `id` must be present")
		return
	}
	// The jti cache of /Token/auth, read but not written (isJTIOk(jti, false)).
	s.mu.Lock()
	until, seen := s.jtis[jti]
	reused := seen && now.Before(until)
	s.mu.Unlock()
	switch _, _, ok := peekClientToken(iss); {
	case reused:
		fail("Token ID cannot be re-used")
	case sub == "":
		fail("Claim `subject` must be present")
	case iss != sub:
		fail(msgIssSub)
	case !s.audienceOK(r, c):
		fail("Audience claim value is incorrect")
	case uuidPattern.MatchString(iss):
		fail("Cannot use Token ID as `client_token`, must use actual token value")
	case !ok:
		fail("Client token is not formatted correctly")
	default:
		w.WriteHeader(http.StatusOK)
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
