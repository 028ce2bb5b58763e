package dpctest_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/golang-jwt/jwt/v5"
)

// testKeyBits keeps key generation fast; the server is told to accept it.
const testKeyBits = 1024

func newServer(t testing.TB, opts ...dpctest.Option) *dpctest.Server {
	t.Helper()
	base := []dpctest.Option{dpctest.WithMinKeyBits(testKeyBits), dpctest.WithJobDuration(200 * time.Millisecond)}
	srv := dpctest.NewServer(append(base, opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// client is an onboarded organization as a DPC user would hold it.
type client struct {
	srv         *dpctest.Server
	orgID       string
	key         *rsa.PrivateKey
	kid         string
	clientToken string
	token       string // access token
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func do(t testing.TB, method, u string, body []byte, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func mustStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

func signSnippet(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	d := sha256.Sum256([]byte(dpctest.Snippet))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func publicPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func genKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, testKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// onboard walks the portal: organization, first key, first client token, then an access token.
func onboard(t testing.TB, srv *dpctest.Server) *client {
	t.Helper()
	r := do(t, "POST", srv.URL+"/portal/Organization", []byte(`{"name":"Test Org","npi":"`+srv.Generator().NPI(99)+`"}`), nil)
	mustStatus(t, r, http.StatusCreated)
	c := &client{srv: srv, orgID: r.json(t)["id"].(string), key: genKey(t)}
	body, _ := json.Marshal(map[string]string{"key": publicPEM(t, &c.key.PublicKey), "signature": signSnippet(t, c.key)})
	r = do(t, "POST", srv.URL+"/portal/Organization/"+c.orgID+"/Key?label=test-key", body, nil)
	mustStatus(t, r, http.StatusOK)
	c.kid = r.json(t)["id"].(string)
	r = do(t, "POST", srv.URL+"/portal/Organization/"+c.orgID+"/Token?label=first", nil, nil)
	mustStatus(t, r, http.StatusOK)
	c.clientToken = r.json(t)["token"].(string)
	c.token = c.accessToken(t)
	return c
}

// assertion signs a client assertion; edit may change claims and header before signing.
func (c *client) assertion(t testing.TB, edit func(claims jwt.MapClaims, tok *jwt.Token)) string {
	t.Helper()
	now := c.srv.Clock().Now()
	claims := jwt.MapClaims{
		"iss": c.clientToken, "sub": c.clientToken,
		"aud": c.srv.BaseURL() + "/Token/auth",
		"exp": now.Add(4 * time.Minute).Unix(),
		"iat": now.Unix(),
		"jti": fmt.Sprintf("jti-%d", now.UnixNano()),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS384, claims)
	tok.Header["kid"] = c.kid
	key := c.key
	if edit != nil {
		edit(claims, tok)
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authForm(assertion string) []byte {
	v := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"system/*.*"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	return []byte(v.Encode())
}

func (c *client) auth(t testing.TB, form []byte) response {
	t.Helper()
	return do(t, "POST", c.srv.BaseURL()+"/Token/auth", form, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
}

func (c *client) accessToken(t testing.TB) string {
	t.Helper()
	r := c.auth(t, authForm(c.assertion(t, nil)))
	mustStatus(t, r, http.StatusOK)
	return r.json(t)["access_token"].(string)
}

// api calls an /api/v1 path with the client's bearer token and FHIR headers.
func (c *client) api(t testing.TB, method, path string, body []byte, hdr map[string]string) response {
	t.Helper()
	h := map[string]string{"Authorization": "Bearer " + c.token, "Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
	if strings.Contains(path, "/Jobs/") {
		h["Accept"] = "application/json" // JobResource produces application/json only (else 406)
	}
	for k, v := range hdr {
		h[k] = v
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.srv.BaseURL() + path
	}
	return do(t, method, u, body, h)
}

func practitionerJSON(npi string) []byte {
	return []byte(`{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"` + npi +
		`"}],"name":[{"family":"Holguin","given":["Alejandro"]}]}`)
}

func patientJSON(mbi, orgID string) []byte {
	return []byte(`{"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"` + mbi +
		`"}],"name":[{"family":"Wyman","given":["Cruz"]}],"gender":"male","birthDate":"1956-02-08","managingOrganization":{"reference":"Organization/` + orgID + `"}}`)
}

func provenance(orgID, practitionerID string) string {
	return `{"resourceType":"Provenance","meta":{"profile":["https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attestation"]},` +
		`"recorded":"2026-01-01T00:00:00.000-05:00","reason":[{"system":"http://hl7.org/fhir/v3/ActReason","code":"TREAT"}],` +
		`"agent":[{"role":[{"coding":[{"system":"http://hl7.org/fhir/v3/RoleClass","code":"AGNT"}]}],` +
		`"whoReference":{"reference":"Organization/` + orgID + `"},"onBehalfOfReference":{"reference":"Practitioner/` + practitionerID + `"}}]}`
}

func groupJSON(npi string, patientIDs ...string) []byte {
	var members []string
	for _, id := range patientIDs {
		members = append(members, `{"entity":{"reference":"Patient/`+id+`"}}`)
	}
	return []byte(`{"resourceType":"Group","type":"person","actual":true,"characteristic":[{"code":{"coding":[{"code":"attributed-to"}]},` +
		`"valueCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/us-npi","code":"` + npi + `"}]}}],"member":[` + strings.Join(members, ",") + `]}`)
}

// roster registers a practitioner and n patients (synth MBIs from first) and a group.
type roster struct {
	practitionerID, npi, groupID string
	patientIDs, mbis             []string
}

func (c *client) roster(t testing.TB, practIdx, first, n int) roster {
	t.Helper()
	g := c.srv.Generator()
	ro := roster{npi: g.NPI(practIdx)}
	r := c.api(t, "POST", "/Practitioner", practitionerJSON(ro.npi), nil)
	mustStatus(t, r, http.StatusCreated)
	ro.practitionerID = r.json(t)["id"].(string)
	for i := first; i < first+n; i++ {
		mbi := g.MBI(i)
		r := c.api(t, "POST", "/Patient", patientJSON(mbi, c.orgID), nil)
		mustStatus(t, r, http.StatusCreated)
		ro.patientIDs = append(ro.patientIDs, r.json(t)["id"].(string))
		ro.mbis = append(ro.mbis, mbi)
	}
	r = c.api(t, "POST", "/Group", groupJSON(ro.npi, ro.patientIDs...), map[string]string{"X-Provenance": provenance(c.orgID, ro.practitionerID)})
	mustStatus(t, r, http.StatusCreated)
	ro.groupID = r.json(t)["id"].(string)
	return ro
}

// export kicks off an export and returns the job URL.
func (c *client) export(t testing.TB, groupID, query string) string {
	t.Helper()
	r := c.api(t, "GET", "/Group/"+groupID+"/$export"+query, nil, map[string]string{"Prefer": "respond-async"})
	mustStatus(t, r, http.StatusAccepted)
	loc := r.header.Get("Content-Location")
	if !strings.HasPrefix(loc, c.srv.BaseURL()+"/Jobs/") {
		t.Fatalf("Content-Location %q", loc)
	}
	return loc
}

type manifest struct {
	TransactionTime     string       `json:"transactionTime"`
	Request             string       `json:"request"`
	RequiresAccessToken bool         `json:"requiresAccessToken"`
	Output              []outputFile `json:"output"`
	Error               []outputFile `json:"error"`
}

type outputFile struct {
	Type      string `json:"type"`
	URL       string `json:"url"`
	Count     int    `json:"count"`
	Extension []struct {
		URL          string          `json:"url"`
		ValueString  string          `json:"valueString"`
		ValueDecimal json.RawMessage `json:"valueDecimal"`
	} `json:"extension"`
}

func (f outputFile) checksum() string {
	for _, e := range f.Extension {
		if e.URL == "https://dpc.cms.gov/checksum" {
			return strings.TrimPrefix(e.ValueString, "sha256:")
		}
	}
	return ""
}

func (f outputFile) length() string {
	for _, e := range f.Extension {
		if e.URL == "https://dpc.cms.gov/file_length" {
			return string(e.ValueDecimal)
		}
	}
	return ""
}

// wait polls a job until it is complete and returns the manifest.
func (c *client) wait(t testing.TB, jobURL string) manifest {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r := c.api(t, "GET", jobURL, nil, nil)
		switch r.status {
		case http.StatusAccepted:
			if p := r.header.Get("X-Progress"); !strings.HasPrefix(p, "QUEUED: ") && !strings.HasPrefix(p, "RUNNING: ") {
				t.Fatalf("X-Progress %q", p)
			}
			if r.header.Get("Retry-After") != "" {
				t.Fatal("DPC sends no Retry-After while a job runs")
			}
			time.Sleep(50 * time.Millisecond)
		case http.StatusOK:
			var m manifest
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatal(err)
			}
			return m
		default:
			t.Fatalf("job status %d: %s", r.status, r.body)
		}
	}
	t.Fatal("job did not finish")
	return manifest{}
}

func rsaKey(bits int) (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, bits) }

// suppressed reports whether the sandbox serves mbi only as an OperationOutcome line.
func suppressed(g *synth.Generator, mbi string) bool {
	_, ok := g.Suppressed(mbi)
	return ok
}
