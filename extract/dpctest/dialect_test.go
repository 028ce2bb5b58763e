package dpctest_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/golang-jwt/jwt/v5"
)

func dialectServer(t *testing.T, d dpctest.Dialect, opts ...dpctest.Option) *dpctest.Server {
	t.Helper()
	// A job lasts 1 s so that the first poll right after kick-off sees it running.
	base := []dpctest.Option{dpctest.WithDialect(d), dpctest.WithPatients(60), dpctest.WithBatchSize(25), dpctest.WithJobDuration(time.Second)}
	return newServer(t, append(base, opts...)...)
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Accept": "application/fhir+json", "Prefer": "respond-async"}
}

// pollManifest polls a status URL until 200, advancing the server clock past any
// Retry-After instead of sleeping through it.
func pollManifest(t *testing.T, srv *dpctest.Server, statusURL, tok string) (map[string]any, response) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := do(t, "GET", statusURL, nil, map[string]string{"Authorization": "Bearer " + tok})
		switch r.status {
		case http.StatusOK:
			return r.json(t), r
		case http.StatusAccepted, http.StatusTooManyRequests:
			if ra := r.header.Get("Retry-After"); ra != "" {
				var secs int
				fmt.Sscan(ra, &secs)
				srv.Clock().Advance(time.Duration(secs) * time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		default:
			t.Fatalf("poll %s: %d %s", statusURL, r.status, r.body)
		}
	}
	t.Fatal("job did not complete")
	return nil, response{}
}

type mfile struct {
	Type      string           `json:"type"`
	URL       string           `json:"url"`
	Count     *int             `json:"count"`
	Extension []map[string]any `json:"extension"`
}

func files(t *testing.T, m map[string]any, key string) []mfile {
	t.Helper()
	b, _ := json.Marshal(m[key])
	var fs []mfile
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatalf("manifest %s: %v", key, err)
	}
	return fs
}

func ndjsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad NDJSON line: %v", err)
		}
		out = append(out, m)
	}
	return out
}

func TestDialectBCDA(t *testing.T) {
	srv := dialectServer(t, dpctest.DialectBCDA)
	id, secret := srv.NewSecretClient()
	tokURL := srv.DialectTokenURL()
	if !strings.HasSuffix(tokURL, "/auth/token") {
		t.Fatalf("token URL %s", tokURL)
	}
	mustStatus(t, do(t, "POST", tokURL, nil, nil), http.StatusBadRequest)
	mustStatus(t, do(t, "POST", tokURL, nil, map[string]string{"Authorization": basicAuth(id, "wrong")}), http.StatusUnauthorized)
	r := do(t, "POST", tokURL, nil, map[string]string{"Authorization": basicAuth(id, secret)})
	mustStatus(t, r, http.StatusOK)
	tm := r.json(t)
	if tm["expires_in"] != "1200" { // a JSON string: BCDA's quirk; 20 minutes
		t.Fatalf("expires_in = %#v, want the string \"1200\"", tm["expires_in"])
	}
	tok := tm["access_token"].(string)

	base := srv.DialectBaseURL()
	mustStatus(t, do(t, "GET", base+"/Group/all/$export", nil, nil), http.StatusUnauthorized)
	mustStatus(t, do(t, "GET", base+"/Group/abc/$export", nil, bearer(tok)), http.StatusBadRequest)
	mustStatus(t, do(t, "GET", base+"/Group/all/$export?_elements=id", nil, bearer(tok)), http.StatusBadRequest)
	mustStatus(t, do(t, "GET", base+"/Group/all/$export?_type=Patient,Patient", nil, bearer(tok)), http.StatusBadRequest)
	mustStatus(t, do(t, "GET", base+"/Group/all/$export?_typeFilter="+url.QueryEscape("Patient?gender=male"), nil, bearer(tok)), http.StatusBadRequest)

	r = do(t, "GET", base+"/Group/all/$export", nil, bearer(tok))
	mustStatus(t, r, http.StatusAccepted)
	status := r.header.Get("Content-Location")
	if !regexp.MustCompile(`/api/v2/jobs/[0-9]+$`).MatchString(status) {
		t.Fatalf("Content-Location %q: want an integer BCDA job id", status)
	}
	// The same request while the first is unfinished: 429.
	mustStatus(t, do(t, "GET", base+"/Group/all/$export", nil, bearer(tok)), http.StatusTooManyRequests)

	p := do(t, "GET", status, nil, map[string]string{"Authorization": "Bearer " + tok})
	mustStatus(t, p, http.StatusAccepted)
	if xp := p.header.Get("X-Progress"); !regexp.MustCompile(`^(Pending|In Progress \([0-9]+%\))$`).MatchString(xp) {
		t.Fatalf("X-Progress %q", xp)
	}
	if p.header.Get("Retry-After") != "" {
		t.Fatal("BCDA sends no Retry-After on polls")
	}
	m, mr := pollManifest(t, srv, status, tok)
	if _, err := http.ParseTime(mr.header.Get("Expires")); err == nil {
		t.Fatalf("Expires %q: BCDA sends Go's time.String, not an HTTP date", mr.header.Get("Expires"))
	}
	if m["requiresAccessToken"] != true || m["JobID"] == nil {
		t.Fatalf("manifest %v", m)
	}
	outs := files(t, m, "output")
	types := map[string]int{}
	for _, f := range outs {
		if f.Extension != nil || f.Count != nil {
			t.Fatalf("BCDA output entries are {type,url} only: %+v", f)
		}
		if !strings.Contains(f.URL, "/data/") {
			t.Fatalf("file URL %s", f.URL)
		}
		mustStatus(t, do(t, "GET", f.URL, nil, nil), http.StatusUnauthorized)
		d := do(t, "GET", f.URL, nil, map[string]string{"Authorization": "Bearer " + tok})
		mustStatus(t, d, http.StatusOK)
		for _, l := range ndjsonLines(t, d.body) {
			types[l["resourceType"].(string)]++
			if l["resourceType"] == "ExplanationOfBenefit" && l["use"] != "claim" {
				t.Fatalf("EOB is not R4 (no use): %v", l["id"])
			}
		}
	}
	if types["Patient"] == 0 || types["Coverage"] == 0 || types["ExplanationOfBenefit"] == 0 {
		t.Fatalf("types %v", types)
	}
	if types["Patient"]+len(files(t, m, "error")) > 60 || types["Patient"] < 50 {
		t.Fatalf("patients %d of 60", types["Patient"])
	}
}

func TestDialectAB2D(t *testing.T) {
	srv := dialectServer(t, dpctest.DialectAB2D)
	id, secret := srv.NewSecretClient()
	form := []byte("grant_type=client_credentials&scope=clientCreds")
	h := map[string]string{"Authorization": basicAuth(id, secret), "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
	bad := do(t, "POST", srv.DialectTokenURL(), []byte("grant_type=client_credentials&scope=system/*.read"), h)
	mustStatus(t, bad, http.StatusBadRequest)
	if bad.json(t)["error"] != "invalid_scope" {
		t.Fatalf("%s", bad.body)
	}
	r := do(t, "POST", srv.DialectTokenURL(), form, h)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["expires_in"] != float64(3600) {
		t.Fatalf("expires_in %v", r.json(t)["expires_in"])
	}
	tok := r.json(t)["access_token"].(string)

	base := srv.DialectBaseURL()
	if !strings.HasSuffix(base, "/api/v2/fhir") {
		t.Fatal(base)
	}
	mustStatus(t, do(t, "GET", base+"/Patient/$export?_type=Coverage", nil, bearer(tok)), http.StatusBadRequest)
	mustStatus(t, do(t, "GET", base+"/Patient/$export?_since=2019-01-01T00:00:00Z", nil, bearer(tok)), http.StatusBadRequest)
	mustStatus(t, do(t, "GET", base+"/Group/Z9999/$export", nil, bearer(tok)), http.StatusNotFound)
	r = do(t, "GET", base+"/Group/Z0001/$export", nil, bearer(tok))
	mustStatus(t, r, http.StatusAccepted)
	status := r.header.Get("Content-Location")
	if !regexp.MustCompile(`/api/v2/fhir/Job/[0-9a-f-]{36}/\$status$`).MatchString(status) {
		t.Fatal(status)
	}
	second := do(t, "GET", base+"/Patient/$export", nil, bearer(tok))
	mustStatus(t, second, http.StatusTooManyRequests)
	if second.header.Get("Content-Location") != status || second.header.Get("Retry-After") != "5" {
		t.Fatalf("429 headers %v", second.header)
	}
	p1 := do(t, "GET", status, nil, map[string]string{"Authorization": "Bearer " + tok})
	mustStatus(t, p1, http.StatusAccepted)
	if p1.header.Get("Retry-After") != "5" || !regexp.MustCompile(`^[0-9]+% complete$`).MatchString(p1.header.Get("X-Progress")) {
		t.Fatalf("202 headers %v", p1.header)
	}
	p2 := do(t, "GET", status, nil, map[string]string{"Authorization": "Bearer " + tok})
	mustStatus(t, p2, http.StatusTooManyRequests) // polled sooner than Retry-After
	m, mr := pollManifest(t, srv, status, tok)
	if _, err := http.ParseTime(mr.header.Get("Expires")); err != nil {
		t.Fatalf("Expires %q: %v", mr.header.Get("Expires"), err)
	}
	outs := files(t, m, "output")
	if len(outs) == 0 {
		t.Fatal("no output")
	}
	for _, f := range outs {
		if f.Type != "ExplanationOfBenefit" || len(f.Extension) != 2 {
			t.Fatalf("entry %+v", f)
		}
		if f.Extension[0]["url"] != "https://ab2d.cms.gov/checksum" || f.Extension[1]["url"] != "https://ab2d.cms.gov/file_length" {
			t.Fatalf("extensions %v", f.Extension)
		}
		d := do(t, "GET", f.URL, nil, map[string]string{"Authorization": "Bearer " + tok})
		mustStatus(t, d, http.StatusOK)
		sum := sha256.Sum256(d.body)
		if f.Extension[0]["valueString"] != "sha256:"+hex.EncodeToString(sum[:]) || f.Extension[1]["valueDecimal"] != float64(len(d.body)) {
			t.Fatalf("checksum/length do not match the served bytes: %v, %d bytes", f.Extension, len(d.body))
		}
	}
	// MAX_DOWNLOADS = 6: the first file was fetched once; five more succeed, the seventh is 410.
	for i := 2; i <= 7; i++ {
		d := do(t, "GET", outs[0].URL, nil, map[string]string{"Authorization": "Bearer " + tok})
		want := http.StatusOK
		if i == 7 {
			want = http.StatusGone
		}
		mustStatus(t, d, want)
	}
}

type smartClient struct {
	id   string
	kid  string
	alg  jwt.SigningMethod
	priv any
}

func jwksFor(t *testing.T, kid string, pub any) []byte {
	t.Helper()
	enc := base64.RawURLEncoding
	var k map[string]string
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k = map[string]string{"kty": "RSA", "kid": kid, "n": enc.EncodeToString(p.N.Bytes()), "e": enc.EncodeToString(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := p.Bytes() // 0x04 || X || Y
		k = map[string]string{"kty": "EC", "kid": kid, "crv": "P-384", "x": enc.EncodeToString(b[1:49]), "y": enc.EncodeToString(b[49:])}
	}
	b, _ := json.Marshal(map[string]any{"keys": []any{k}})
	return b
}

func newSMARTClient(t *testing.T, srv *dpctest.Server, ec bool) *smartClient {
	t.Helper()
	c := &smartClient{kid: "key-" + fmt.Sprint(ec)}
	var pub any
	if ec {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c.priv, pub, c.alg = k, &k.PublicKey, jwt.SigningMethodES384
	} else {
		k := genKey(t)
		c.priv, pub, c.alg = k, &k.PublicKey, jwt.SigningMethodRS384
	}
	id, err := srv.RegisterJWKS(jwksFor(t, c.kid, pub))
	if err != nil {
		t.Fatal(err)
	}
	c.id = id
	return c
}

func (c *smartClient) assertion(t *testing.T, aud any, jti string) string {
	t.Helper()
	tk := jwt.NewWithClaims(c.alg, jwt.MapClaims{"iss": c.id, "sub": c.id, "aud": aud, "jti": jti,
		"exp": time.Now().Add(4 * time.Minute).Unix()})
	tk.Header["kid"] = c.kid
	s, err := tk.SignedString(c.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func smartTokenCall(t *testing.T, tokenURL, scope, assertion string) response {
	t.Helper()
	f := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	return do(t, "POST", tokenURL, []byte(f.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func TestDialectSMARTAuth(t *testing.T) {
	srv := dialectServer(t, dpctest.DialectSMART)
	r := do(t, "GET", srv.DialectBaseURL()+"/.well-known/smart-configuration", nil, nil)
	mustStatus(t, r, http.StatusOK)
	cfg := r.json(t)
	tokenURL := cfg["token_endpoint"].(string)
	if tokenURL != srv.DialectTokenURL() {
		t.Fatalf("token_endpoint %s", tokenURL)
	}
	for _, ec := range []bool{false, true} {
		c := newSMARTClient(t, srv, ec)
		name := c.alg.Alg()
		// An array aud (what dpcetl's DPC client sends) is refused by this server.
		if r := smartTokenCall(t, tokenURL, "system/*.read", c.assertion(t, []string{tokenURL}, "a-"+name)); r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "aud must be a string") {
			t.Fatalf("%s array aud: %d %s", name, r.status, r.body)
		}
		mustStatus(t, smartTokenCall(t, tokenURL, "system/*.read", c.assertion(t, tokenURL+"x", "b-"+name)), http.StatusUnauthorized)
		mustStatus(t, smartTokenCall(t, tokenURL, "system/*.*.bad", c.assertion(t, tokenURL, "c-"+name)), http.StatusBadRequest)
		ok := smartTokenCall(t, tokenURL, "system/*.read", c.assertion(t, tokenURL, "d-"+name))
		mustStatus(t, ok, http.StatusOK)
		if ok.json(t)["scope"] != "system/*.read" || ok.json(t)["expires_in"] != float64(300) {
			t.Fatalf("%s token %s", name, ok.body)
		}
		// The same jti again: a replay.
		mustStatus(t, smartTokenCall(t, tokenURL, "system/*.read", c.assertion(t, tokenURL, "d-"+name)), http.StatusUnauthorized)
	}
	// A kid nobody registered.
	c := newSMARTClient(t, srv, false)
	c.kid = "other"
	mustStatus(t, smartTokenCall(t, tokenURL, "system/*.read", c.assertion(t, tokenURL, "e")), http.StatusUnauthorized)
	// A Patient-only scope cannot export claims.
	c = newSMARTClient(t, srv, false)
	r = smartTokenCall(t, tokenURL, "system/Patient.read", c.assertion(t, tokenURL, "f"))
	mustStatus(t, r, http.StatusOK)
	tok := r.json(t)["access_token"].(string)
	mustStatus(t, do(t, "GET", srv.DialectBaseURL()+"/$export?_type=ExplanationOfBenefit", nil, bearer(tok)), http.StatusForbidden)
	mustStatus(t, do(t, "GET", srv.DialectBaseURL()+"/$export?_type=Patient", nil, bearer(tok)), http.StatusAccepted)
}

func smartToken(t *testing.T, srv *dpctest.Server) string {
	t.Helper()
	c := newSMARTClient(t, srv, false)
	r := smartTokenCall(t, srv.DialectTokenURL(), "system/*.read", c.assertion(t, srv.DialectTokenURL(), "j1"))
	mustStatus(t, r, http.StatusOK)
	return r.json(t)["access_token"].(string)
}

func TestDialectSMARTExport(t *testing.T) {
	// Polls move the server clock past each Retry-After, so the token must outlive many of them.
	srv := dialectServer(t, dpctest.DialectSMART, dpctest.WithSuppressedShare(0.2), dpctest.WithJobRetryAfter(2*time.Second), dpctest.WithTokenLifetime(24*time.Hour),
		dpctest.WithSeedOrganization(dpctest.SeedOrganization{Patients: 60, Practitioners: 2}))
	tok := smartToken(t, srv)
	base := srv.DialectBaseURL()
	groups := srv.DialectGroups()
	if len(groups) != 2 || groups[0] != "practice-1" {
		t.Fatalf("groups %v", groups)
	}
	mustStatus(t, do(t, "GET", base+"/Group/practice-9/$export", nil, bearer(tok)), http.StatusNotFound)
	h := bearer(tok)
	delete(h, "Prefer")
	mustStatus(t, do(t, "GET", base+"/$export", nil, h), http.StatusBadRequest)
	mustStatus(t, do(t, "GET", base+"/$export?includeAssociatedData=_myOwn", nil, bearer(tok)), http.StatusBadRequest)

	for _, level := range []string{"/$export", "/Patient/$export", "/Group/practice-1/$export"} {
		t.Run(level, func(t *testing.T) {
			since := srv.Clock().Now().Add(-48 * 30 * 24 * time.Hour).UTC().Format(time.RFC3339)
			r := do(t, "GET", base+level+"?_since="+since+"&includeAssociatedData=LatestProvenanceResources", nil, bearer(tok))
			mustStatus(t, r, http.StatusAccepted)
			status := r.header.Get("Content-Location")
			p1 := do(t, "GET", status, nil, map[string]string{"Authorization": "Bearer " + tok})
			mustStatus(t, p1, http.StatusAccepted)
			if p1.header.Get("Retry-After") != "2" || !regexp.MustCompile(`^[0-9]+%$`).MatchString(p1.header.Get("X-Progress")) {
				t.Fatalf("202 headers %v", p1.header)
			}
			mustStatus(t, do(t, "GET", status, nil, map[string]string{"Authorization": "Bearer " + tok}), http.StatusTooManyRequests)
			m, _ := pollManifest(t, srv, status, tok)
			if m["requiresAccessToken"] != true {
				t.Fatal("requiresAccessToken")
			}
			patients := 0
			for _, f := range files(t, m, "output") {
				if f.Extension != nil || f.Count == nil {
					t.Fatalf("SMART output entries carry count, no extensions: %+v", f)
				}
				d := do(t, "GET", f.URL, nil, map[string]string{"Authorization": "Bearer " + tok})
				mustStatus(t, d, http.StatusOK)
				lines := ndjsonLines(t, d.body)
				if len(lines) != *f.Count {
					t.Fatalf("%s: %d lines, count %d", f.URL, len(lines), *f.Count)
				}
				if f.Type == "Patient" {
					patients += len(lines)
				}
			}
			errs := files(t, m, "error")
			errLines := 0
			for _, f := range errs {
				d := do(t, "GET", f.URL, nil, map[string]string{"Authorization": "Bearer " + tok})
				for _, l := range ndjsonLines(t, d.body) {
					if l["resourceType"] != "OperationOutcome" {
						t.Fatalf("error line %v", l)
					}
					errLines++
				}
			}
			want := 60
			if strings.HasPrefix(level, "/Group") {
				want = 30
			}
			if errLines == 0 || patients+errLines != want {
				t.Fatalf("patients %d + errors %d, want %d", patients, errLines, want)
			}
			del := files(t, m, "deleted")
			if len(del) != 1 || del[0].Type != "Bundle" {
				t.Fatalf("deleted %+v", del)
			}
			d := do(t, "GET", del[0].URL, nil, map[string]string{"Authorization": "Bearer " + tok})
			lines := ndjsonLines(t, d.body)
			if len(lines) != *del[0].Count || len(lines) != want/5 {
				t.Fatalf("deleted lines %d, count %d", len(lines), *del[0].Count)
			}
			kinds := map[string]int{}
			for _, l := range lines {
				e := l["entry"].([]any)[0].(map[string]any)["request"].(map[string]any)
				typ, id, _ := strings.Cut(e["url"].(string), "/")
				if l["type"] != "transaction" || e["method"] != "DELETE" || l["id"] != "deleted-"+strings.TrimPrefix(id, "deleted-") || l["timestamp"] == nil {
					t.Fatalf("deleted entry %v", l)
				}
				kinds[typ]++
			}
			if kinds["ExplanationOfBenefit"] != want/10 || kinds["Patient"] != want/10 {
				t.Fatalf("deleted %v, want %d EOBs and %d Patients", kinds, want/10, want/10)
			}
		})
	}

	// Without _since there is nothing to delete; DELETE cancels.
	r := do(t, "GET", base+"/Patient/$export?_type=Patient", nil, bearer(tok))
	mustStatus(t, r, http.StatusAccepted)
	status := r.header.Get("Content-Location")
	mustStatus(t, do(t, "DELETE", status, nil, map[string]string{"Authorization": "Bearer " + tok}), http.StatusAccepted)
	mustStatus(t, do(t, "GET", status, nil, map[string]string{"Authorization": "Bearer " + tok}), http.StatusNotFound)
}

func TestDialectSMARTOpenFilesOnAnotherHost(t *testing.T) {
	// Files named on another origin (another host name, another port).
	srv := dialectServer(t, dpctest.DialectSMART, dpctest.WithOpenFiles(), dpctest.WithFileHost("localhost:1"))
	tok := smartToken(t, srv)
	r := do(t, "GET", srv.DialectBaseURL()+"/Patient/$export?_type=Patient&_elements=gender", nil, bearer(tok))
	mustStatus(t, r, http.StatusAccepted)
	m, _ := pollManifest(t, srv, r.header.Get("Content-Location"), tok)
	if m["requiresAccessToken"] != false {
		t.Fatalf("requiresAccessToken %v", m["requiresAccessToken"])
	}
	outs := files(t, m, "output")
	if len(outs) == 0 {
		t.Fatal("no output")
	}
	u, _ := url.Parse(outs[0].URL)
	if u.Host != "localhost:1" {
		t.Fatalf("file host %s", u.Host)
	}
	// Fetch it from the real listener without a bearer: open files need none.
	u.Host = strings.TrimPrefix(srv.URL, "http://")
	d := do(t, "GET", u.String(), nil, nil)
	mustStatus(t, d, http.StatusOK)
	if srv.FileRequestsWithBearer() != 0 {
		t.Fatal("a bearer reached the file URL")
	}
	for _, l := range ndjsonLines(t, d.body) {
		if _, ok := l["name"]; ok {
			t.Fatalf("_elements=gender kept name: %v", l)
		}
		if l["gender"] == nil || l["id"] == nil {
			t.Fatalf("_elements dropped gender or id: %v", l)
		}
		tags := l["meta"].(map[string]any)["tag"].([]any)
		if tags[0].(map[string]any)["code"] != "SUBSETTED" {
			t.Fatalf("no SUBSETTED tag: %v", l["meta"])
		}
	}
}

func TestDialectNeedsPatients(t *testing.T) {
	if _, err := dpctest.Listen("127.0.0.1:0", dpctest.WithDialect(dpctest.DialectBCDA)); err == nil || !strings.Contains(err.Error(), "seeded") {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{"dpc", "smart", "BCDA", "ab2d"} {
		if d, err := dpctest.ParseDialect(s); err != nil || !strings.EqualFold(d.String(), s) {
			t.Fatalf("%s: %v %v", s, d, err)
		}
	}
	if _, err := dpctest.ParseDialect("epic"); err == nil {
		t.Fatal("epic accepted")
	}
}

// Fault rules reach the dialects' paths (relative to their FHIR base or root),
// never the portal.
func TestDialectFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		d     dpctest.Dialect
		fault dpctest.Fault
		check func(t *testing.T, srv *dpctest.Server, status, file, tok string)
	}{
		{"bcda poll 500 once", dpctest.DialectBCDA, dpctest.Fault{Kind: dpctest.FaultServerError, Path: "/jobs/", Count: 1},
			func(t *testing.T, srv *dpctest.Server, status, _, tok string) {
				mustStatus(t, do(t, "GET", status, nil, bearer(tok)), http.StatusInternalServerError)
				pollManifest(t, srv, status, tok)
			}},
		{"bcda file gone", dpctest.DialectBCDA, dpctest.Fault{Kind: dpctest.FaultExpired, Path: "/data/"},
			func(t *testing.T, _ *dpctest.Server, _, file, tok string) {
				mustStatus(t, do(t, "GET", file, nil, bearer(tok)), http.StatusGone)
			}},
		{"smart poll 429", dpctest.DialectSMART, dpctest.Fault{Kind: dpctest.FaultTooManyRequests, Path: "/jobs/", RetryAfter: 2 * time.Second, Count: 1},
			func(t *testing.T, _ *dpctest.Server, status, _, tok string) {
				r := do(t, "GET", status, nil, bearer(tok))
				if mustStatus(t, r, http.StatusTooManyRequests); r.header.Get("Retry-After") != "2" {
					t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
				}
			}},
		{"smart job fails", dpctest.DialectSMART, dpctest.Fault{Kind: dpctest.FaultJobFailed, Path: "/jobs/"},
			func(t *testing.T, _ *dpctest.Server, status, _, tok string) {
				mustStatus(t, do(t, "GET", status, nil, bearer(tok)), http.StatusInternalServerError)
			}},
		{"ab2d bad checksum", dpctest.DialectAB2D, dpctest.Fault{Kind: dpctest.FaultBadChecksum, Path: "/Job/"},
			func(t *testing.T, srv *dpctest.Server, status, file, tok string) {
				m, _ := pollManifest(t, srv, status, tok)
				outs := files(t, m, "output")
				d := do(t, "GET", outs[0].URL, nil, bearer(tok))
				sum := sha256.Sum256(d.body)
				if outs[0].Extension[0]["valueString"] == "sha256:"+hex.EncodeToString(sum[:]) {
					t.Fatal("FaultBadChecksum left the AB2D checksum right")
				}
			}},
		{"ab2d file truncated", dpctest.DialectAB2D, dpctest.Fault{Kind: dpctest.FaultTruncate, Path: "/Job/", Method: "GET"},
			func(t *testing.T, _ *dpctest.Server, _, file, tok string) {
				req, _ := http.NewRequest("GET", file, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil {
					t.Fatal("truncated body read cleanly")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The rule is armed once an export is done (and, for poll faults, another running).
			srv := dialectServer(t, tc.d, dpctest.WithJobRetryAfter(0))
			var tok string
			if tc.d == dpctest.DialectSMART {
				tok = smartToken(t, srv)
			} else {
				id, secret := srv.NewSecretClient()
				r := do(t, "POST", srv.DialectTokenURL(), []byte("grant_type=client_credentials&scope=clientCreds"),
					map[string]string{"Authorization": basicAuth(id, secret), "Content-Type": "application/x-www-form-urlencoded"})
				mustStatus(t, r, http.StatusOK)
				tok = r.json(t)["access_token"].(string)
			}
			g := "/Patient/$export"
			r := do(t, "GET", srv.DialectBaseURL()+g, nil, bearer(tok))
			mustStatus(t, r, http.StatusAccepted)
			status := r.header.Get("Content-Location")
			m, _ := pollManifest(t, srv, status, tok)
			file := files(t, m, "output")[0].URL
			if tc.fault.Kind == dpctest.FaultJobFailed || tc.fault.Kind == dpctest.FaultTooManyRequests || tc.fault.Kind == dpctest.FaultServerError {
				r := do(t, "GET", srv.DialectBaseURL()+g, nil, bearer(tok)) // a new, unfinished job
				mustStatus(t, r, http.StatusAccepted)
				status = r.header.Get("Content-Location")
			}
			srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{tc.fault}})
			tc.check(t, srv, status, file, tok)
		})
	}
	// The portal never matches, even a rule for every path.
	srv := dialectServer(t, dpctest.DialectSMART, dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultServerError}}}))
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	mustStatus(t, do(t, "POST", srv.URL+"/portal/Client", jwksFor(t, "k", &key.PublicKey), nil), http.StatusCreated)
	mustStatus(t, do(t, "GET", srv.DialectBaseURL()+"/metadata", nil, nil), http.StatusInternalServerError)
}
