package dpc_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/retry"
)

func TestKeysAndTokens(t *testing.T) {
	_, sb := newSandbox(t)
	ctx := context.Background()
	c := sb.Client()

	k2, err := dpc.GenerateKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	up, err := dpc.NewKeyUpload(k2)
	if err != nil {
		t.Fatal(err)
	}
	key, err := c.UploadKey(ctx, "second", up)
	if err != nil {
		t.Fatalf("UploadKey: %v", err)
	}
	if key.ID == "" || key.Label != "second" || !strings.Contains(key.PublicKey, "BEGIN PUBLIC KEY") {
		t.Fatalf("UploadKey = %+v", key)
	}
	keys, err := c.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("Keys = %+v, %v", keys, err)
	}
	got, err := c.Key(ctx, key.ID)
	if err != nil || got.ID != key.ID {
		t.Fatalf("Key = %+v, %v", got, err)
	}
	// A signature over other text is refused with the server's message.
	bad := up
	sig, _ := dpc.SignSnippet(k2, []byte("not the snippet"))
	bad.Signature = base64.StdEncoding.EncodeToString(sig)
	if _, err := c.UploadKey(ctx, "bad", bad); !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("bad signature: err = %v, want ErrInvalid", err)
	}
	if err := c.DeleteKey(ctx, key.ID); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if _, err := c.Key(ctx, key.ID); !errors.Is(err, dpc.ErrNotFound) {
		t.Fatalf("Key after delete: %v, want ErrNotFound", err)
	}

	exp := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	tok, err := c.CreateToken(ctx, "vendor A", exp)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if tok.Token == "" || tok.Label != "vendor A" {
		t.Fatalf("CreateToken = %+v", tok)
	}
	toks, err := c.Tokens(ctx)
	if err != nil || len(toks) != 2 {
		t.Fatalf("Tokens = %d, %v", len(toks), err)
	}
	for _, tk := range toks {
		if tk.Token != "" {
			t.Fatalf("Tokens leaked a secret for %s", tk.ID)
		}
	}
	if _, err := c.CreateToken(ctx, "too long", time.Now().Add(5*365*24*time.Hour)); !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("CreateToken far expiry: %v", err)
	}
	if err := c.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if err := c.DeleteToken(ctx, tok.ID); !errors.Is(err, dpc.ErrNotFound) {
		t.Fatalf("DeleteToken twice: %v", err)
	}
}

func TestValidateToken(t *testing.T) {
	_, sb := newSandbox(t)
	ctx := context.Background()
	c := dpc.New(sb.Credentials.BaseURL, nil) // /Token/validate needs no bearer
	jwt, err := auth.NewAssertion(sb.Credentials, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateToken(ctx, jwt); err != nil {
		t.Fatalf("ValidateToken(good) = %v", err)
	}
	err = c.ValidateToken(ctx, "not.a.jwt")
	var ae *dpc.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Message == "" {
		t.Fatalf("ValidateToken(bad) = %v", err)
	}
	// An assertion made 10 minutes in the future has exp too far ahead for the server.
	late, _ := auth.NewAssertion(sb.Credentials, time.Now().Add(10*time.Minute))
	err = c.ValidateToken(ctx, late)
	if err == nil {
		t.Fatal("future assertion validated")
	}
	if strings.Contains(err.Error(), late) || strings.Contains(err.Error(), sb.Credentials.ClientToken) {
		t.Fatalf("error leaks a secret: %v", err)
	}
}

func TestPractitionersAndPatients(t *testing.T) {
	srv, sb := newSandbox(t)
	ctx := context.Background()
	c := sb.Client(dpc.WithPageSize(2))
	gen := srv.Generator()

	p, err := c.CreatePractitioner(ctx, dpc.NewPractitioner(gen.NPI(50), "Ada", "Lovelace"))
	if err != nil || p.ID == "" || p.NPI() != gen.NPI(50) {
		t.Fatalf("CreatePractitioner = %+v, %v", p, err)
	}
	ps, err := c.SubmitPractitioners(ctx, []dpc.Practitioner{dpc.NewPractitioner(gen.NPI(51), "B", "C"), dpc.NewPractitioner(gen.NPI(52), "D", "E")})
	if err != nil || len(ps) != 2 {
		t.Fatalf("SubmitPractitioners = %+v, %v", ps, err)
	}
	all, err := c.Practitioners(ctx)
	if err != nil || len(all) != 5 {
		t.Fatalf("Practitioners = %d, %v", len(all), err)
	}
	got, err := c.PractitionerByNPI(ctx, gen.NPI(51))
	if err != nil || got.ID != ps[0].ID {
		t.Fatalf("PractitionerByNPI = %+v, %v", got, err)
	}
	if one, err := c.Practitioner(ctx, got.ID); err != nil || one.NPI() != gen.NPI(51) {
		t.Fatalf("Practitioner = %+v, %v", one, err)
	}
	if _, err := c.PractitionerByNPI(ctx, gen.NPI(99)); !errors.Is(err, dpc.ErrNotFound) {
		t.Fatalf("PractitionerByNPI(unknown) = %v", err)
	}
	if _, err := c.CreatePractitioner(ctx, dpc.NewPractitioner("1234567890", "x", "y")); !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("bad NPI accepted: %v", err)
	}
	// The server's 422 for a profile violation (no name) comes back typed, with its message.
	noName := dpc.NewPractitioner(gen.NPI(53), "", "")
	noName.Name = nil
	_, err = c.CreatePractitioner(ctx, noName)
	var ae *dpc.APIError
	if !errors.As(err, &ae) || !errors.Is(err, dpc.ErrInvalid) || ae.Message == "" {
		t.Fatalf("nameless practitioner: %v", err)
	}

	b := gen.Beneficiary(gen.MBI(100))
	pt, err := c.CreatePatient(ctx, dpc.NewPatient(b.MBI, b.Given, b.Family, b.BirthDate, b.Gender, sb.OrgID))
	if err != nil || pt.ID == "" || pt.MBI() != b.MBI {
		t.Fatalf("CreatePatient = %+v, %v", pt, err)
	}
	var more []dpc.Patient
	for i := 101; i < 104; i++ {
		b := gen.Beneficiary(gen.MBI(i))
		more = append(more, dpc.NewPatient(b.MBI, b.Given, b.Family, b.BirthDate, b.Gender, sb.OrgID))
	}
	if got, err := c.SubmitPatients(ctx, more); err != nil || len(got) != 3 {
		t.Fatalf("SubmitPatients = %d, %v", len(got), err)
	}
	before := srv.Requests("/api/v1/Patient")
	pats, err := c.Patients(ctx)
	if err != nil || len(pats) != 10 {
		t.Fatalf("Patients = %d, %v", len(pats), err)
	}
	if pages := srv.Requests("/api/v1/Patient") - before; pages < 5 {
		t.Errorf("listing 10 patients 2 a page took %d requests; next links not followed", pages)
	}
	seen := map[string]bool{}
	for _, p := range pats {
		if seen[p.ID] {
			t.Fatalf("patient %s listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	if got, err := c.PatientByMBI(ctx, gen.MBI(102)); err != nil || got.MBI() != gen.MBI(102) {
		t.Fatalf("PatientByMBI = %+v, %v", got, err)
	}
	if got, err := c.Patient(ctx, pt.ID); err != nil || got.ID != pt.ID {
		t.Fatalf("Patient = %+v, %v", got, err)
	}
	if _, err := c.PatientByMBI(ctx, gen.MBI(999)); !errors.Is(err, dpc.ErrNotFound) {
		t.Fatalf("PatientByMBI(unknown) = %v", err)
	}
	if _, err := c.PatientByMBI(ctx, "0SQ3F00AA00"); !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("bad MBI: %v", err)
	}
}

func TestGroups(t *testing.T) {
	srv, sb := newSandbox(t)
	ctx := context.Background()
	c := sb.Client()
	npi := sb.NPIs[0]
	att, pr, err := c.AttestationFor(ctx, npi)
	if err != nil || pr.NPI() != npi || att.OrganizationID != sb.OrgID {
		t.Fatalf("AttestationFor = %+v %+v %v", att, pr, err)
	}
	gid := sb.GroupByNPI[npi]
	ids := func(g dpc.Group, active bool) []string {
		var out []string
		for _, m := range g.Member {
			if m.Active(srv.Clock().Now()) == active {
				out = append(out, m.PatientID())
			}
		}
		return out
	}
	g, err := c.Group(ctx, gid)
	if err != nil || g.NPI() != npi || len(ids(g, true)) != 3 {
		t.Fatalf("Group = %+v, %v", g, err)
	}
	p0, p1 := sb.PatientIDs[sb.MBIs[0]], sb.PatientIDs[sb.MBIs[1]]
	g, err = c.RemoveMembers(ctx, gid, npi, []string{p0})
	if err != nil || len(ids(g, true)) != 2 {
		t.Fatalf("RemoveMembers = %+v, %v", g, err)
	}
	g, err = c.AddMembers(ctx, gid, npi, []string{p0, p1}, att)
	if err != nil || len(ids(g, true)) != 4 {
		t.Fatalf("AddMembers active = %v, %v", ids(g, true), err)
	}
	g, err = c.ReplaceGroup(ctx, gid, npi, []string{p1}, att)
	if err != nil || len(ids(g, true)) != 1 || ids(g, true)[0] != p1 {
		t.Fatalf("ReplaceGroup = %+v, %v", g, err)
	}
	// An attestation for the other practitioner does not match this group's NPI: 422.
	other, _, err := c.AttestationFor(ctx, sb.NPIs[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddMembers(ctx, gid, npi, []string{p0}, other); !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("mismatched attestation: %v", err)
	}
	all, err := c.AllGroups(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("AllGroups = %d, %v", len(all), err)
	}
	if _, err := c.Group(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, dpc.ErrNotFound) {
		t.Fatalf("unknown group: %v", err)
	}
	// A new practitioner's group is created with the attestation built for them.
	gen := srv.Generator()
	np, err := c.CreatePractitioner(ctx, dpc.NewPractitioner(gen.NPI(7), "New", "Doc"))
	if err != nil {
		t.Fatal(err)
	}
	ng, err := c.CreateGroup(ctx, np.NPI(), []string{p0}, c.Attestation(sb.OrgID, np.ID))
	if err != nil || ng.ID == "" || ng.NPI() != np.NPI() {
		t.Fatalf("CreateGroup = %+v, %v", ng, err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	srv, sb := newSandbox(t)
	ctx := context.Background()

	// No bearer at all: 401 → extract.ErrAuth.
	anon := dpc.New(sb.Credentials.BaseURL, nil)
	if _, err := anon.Organization(ctx); !errors.Is(err, extract.ErrAuth) {
		t.Fatalf("anonymous: %v", err)
	}
	c := sb.Client()
	for _, kind := range []dpctest.FaultKind{dpctest.FaultTooManyRequests, dpctest.FaultServerError, dpctest.FaultUnavailable} {
		srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: kind, Path: "/Organization", Count: 1}}})
		_, err := c.Organization(ctx)
		if !errors.Is(err, extract.ErrRetryable) {
			t.Errorf("%s: err = %v, want ErrRetryable", kind, err)
		}
	}
	srv.SetFaults(dpctest.Faults{})
	// A server that is gone is retryable too.
	down := dpc.New("http://127.0.0.1:1/api/v1", nil)
	if _, err := down.Organization(ctx); !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("connection refused: %v", err)
	}
	// Errors never carry the credentials.
	_, err := c.Group(ctx, "nope")
	if err == nil || strings.Contains(err.Error(), sb.Credentials.ClientToken) {
		t.Fatalf("Group(nope) = %v", err)
	}
}

func TestProvenanceHeader(t *testing.T) {
	p := dpc.Provenance{OrganizationID: "o1", PractitionerID: "p1", Recorded: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	want := `{"agent":[{"onBehalfOfReference":{"reference":"Practitioner/p1"},"role":[{"coding":[{"system":"http://hl7.org/fhir/v3/RoleClass","code":"AGNT"}]}],"whoReference":{"reference":"Organization/o1"}}],"meta":{"profile":["https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attestation"]},"reason":[{"system":"http://hl7.org/fhir/v3/ActReason","code":"TREAT"}],"recorded":"2026-01-02T03:04:05.000Z","resourceType":"Provenance"}`
	if got := p.Header(); got != want {
		t.Errorf("Header =\n%s\nwant\n%s", got, want)
	}
}

func TestRetryOnlyWhenSafe(t *testing.T) {
	srv, sb := newSandbox(t)
	ctx := context.Background()
	fast := retry.Policy{MaxAttempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}
	c := sb.Client(dpc.WithRetry(fast), dpc.WithLimiter(retry.NewLimiter(time.Millisecond, 5*time.Millisecond)))

	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Organization", Count: 2}}})
	before := srv.Requests("/api/v1/Organization")
	if _, err := c.Organization(ctx); err != nil {
		t.Fatalf("GET after two 503s: %v", err)
	}
	if n := srv.Requests("/api/v1/Organization") - before; n != 3 {
		t.Errorf("GET took %d attempts, want 3", n)
	}

	// A create that got a 500 may have happened: not repeated.
	gen := srv.Generator()
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Practitioner", Method: "POST", Count: 1}}})
	before = srv.Requests("/api/v1/Practitioner")
	if _, err := c.CreatePractitioner(ctx, dpc.NewPractitioner(gen.NPI(60), "A", "B")); !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("POST after 500: %v, want ErrRetryable", err)
	}
	if n := srv.Requests("/api/v1/Practitioner") - before; n != 1 {
		t.Errorf("POST after a 500 was sent %d times, want 1", n)
	}
	// A create refused with 429 was never processed: repeated.
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultTooManyRequests, Path: "/Practitioner", Method: "POST", Count: 1}}})
	if _, err := c.CreatePractitioner(ctx, dpc.NewPractitioner(gen.NPI(60), "A", "B")); err != nil {
		t.Fatalf("POST after 429: %v", err)
	}
	// Persistent failure: gives up after MaxAttempts with the typed error.
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultServerError, Path: "/Group"}}})
	before = srv.Requests("/api/v1/Group")
	if _, err := c.AllGroups(ctx); !errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("persistent 500: %v", err)
	}
	if n := srv.Requests("/api/v1/Group") - before; n != 3 {
		t.Errorf("persistent 500: %d attempts, want 3", n)
	}
}

// The DPC sandbox's own sample MBIs (dpc-app patient_bundle.json, test_associations-dpr.csv)
// break the MBI specification on purpose; they work against a sandbox, never production.
func TestSyntheticMBIs(t *testing.T) {
	samples := []string{"1SQ3F00AA00", "5S58A00AA00", "1S00E00FZ00", "1S00E00AA02"}
	for _, m := range samples {
		if !dpc.SyntheticMBI(m) || dpc.ValidateMBI(m) == nil || dpc.ValidateMBIOrSynthetic(m) != nil {
			t.Errorf("%s: synthetic %v, strict %v", m, dpc.SyntheticMBI(m), dpc.ValidateMBI(m))
		}
	}
	if dpc.SyntheticMBI("1EG4TE5MK73") || dpc.SyntheticMBI("1S0AE00AA02") {
		t.Error("SyntheticMBI accepted a non-synthetic shape")
	}
	// Against production a synthetic MBI is refused before any request is made.
	noNet := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Fatal("a request was sent")
		return nil, nil
	})}
	prod := dpc.New("https://api.dpc.cms.gov/api/v1", noNet)
	if _, err := prod.PatientByMBI(context.Background(), samples[0]); !errors.Is(err, dpc.ErrInvalid) {
		t.Fatalf("production accepted a synthetic MBI: %v", err)
	}
	// Against the sandbox it registers and is found.
	srv, sb := newSandbox(t)
	c := sb.Client()
	ctx := context.Background()
	b := srv.Generator().Beneficiary(samples[3])
	if _, err := c.CreatePatient(ctx, dpc.NewPatient(samples[3], b.Given, b.Family, b.BirthDate, b.Gender, sb.OrgID)); err != nil {
		t.Fatalf("sandbox refused synthetic MBI: %v", err)
	}
	if p, err := c.PatientByMBI(ctx, samples[3]); err != nil || p.MBI() != samples[3] {
		t.Fatalf("PatientByMBI(%s) = %+v, %v", samples[3], p, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
