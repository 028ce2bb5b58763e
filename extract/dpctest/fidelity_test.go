package dpctest_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
)

// TestRosterLimit: a group past the patient limit is 400 "Roster limit reached" on
// POST, PUT and $add; $add counts every stored member, inactive ones included.
func TestRosterLimit(t *testing.T) {
	srv := newServer(t, dpctest.WithRosterLimit(3))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 3) // exactly at the limit: fine
	prov := map[string]string{"X-Provenance": provenance(c.orgID, ro.practitionerID)}
	var extra []string
	for i := 10; i < 12; i++ {
		r := c.api(t, "POST", "/Patient", patientJSON(srv.Generator().MBI(i), c.orgID), nil)
		mustStatus(t, r, http.StatusCreated)
		extra = append(extra, r.json(t)["id"].(string))
	}
	limited := func(r response, what string) {
		t.Helper()
		mustStatus(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.body), "Roster limit reached") {
			t.Errorf("%s: %s", what, r.body)
		}
	}
	limited(c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, extra[0]), prov), "$add past the limit")
	// $remove leaves the member stored (inactive): $add still counts it.
	mustStatus(t, c.api(t, "POST", "/Group/"+ro.groupID+"/$remove", groupJSON(ro.npi, ro.patientIDs[0]), nil), http.StatusOK)
	limited(c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, extra[0]), prov), "$add after $remove")
	// Re-adding a stored member does not grow the roster.
	mustStatus(t, c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, ro.patientIDs[0]), prov), http.StatusOK)
	// PUT counts only the new membership.
	limited(c.api(t, "PUT", "/Group/"+ro.groupID, groupJSON(ro.npi, append(append([]string{}, ro.patientIDs...), extra[0])...), prov), "PUT of 4")
	mustStatus(t, c.api(t, "PUT", "/Group/"+ro.groupID, groupJSON(ro.npi, extra...), prov), http.StatusOK)
	// POST of a group over the limit (second practitioner).
	r := c.api(t, "POST", "/Practitioner", practitionerJSON(srv.Generator().NPI(1)), nil)
	mustStatus(t, r, http.StatusCreated)
	p2 := r.json(t)["id"].(string)
	limited(c.api(t, "POST", "/Group", groupJSON(srv.Generator().NPI(1), append(append([]string{}, ro.patientIDs...), extra...)...),
		map[string]string{"X-Provenance": provenance(c.orgID, p2)}), "POST of 5")

	// No limit: the standard behaviour.
	open := newServer(t, dpctest.WithRosterLimit(0))
	oc := onboard(t, open)
	oro := oc.roster(t, 0, 0, 5)
	if oro.groupID == "" {
		t.Fatal("no group without a limit")
	}
}

// TestPractitionerLimit: past the organization's practitioner limit POST /Practitioner is
// 422 "Provider limit reached".
func TestPractitionerLimit(t *testing.T) {
	srv := newServer(t, dpctest.WithPractitionerLimit(2))
	c := onboard(t, srv)
	g := srv.Generator()
	mustStatus(t, c.api(t, "POST", "/Practitioner", practitionerJSON(g.NPI(0)), nil), http.StatusCreated)
	mustStatus(t, c.api(t, "POST", "/Practitioner", practitionerJSON(g.NPI(1)), nil), http.StatusCreated)
	r := c.api(t, "POST", "/Practitioner", practitionerJSON(g.NPI(2)), nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "Provider limit reached") || r.json(t)["resourceType"] != "OperationOutcome" {
		t.Errorf("body %s", r.body)
	}
}

// TestDuplicateGroupStandard: the standard alternative answers a second Group POST with the
// existing group.
func TestDuplicateGroupStandard(t *testing.T) {
	srv := newServer(t, dpctest.WithDuplicateGroupReturnsExisting())
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 2)
	r := c.api(t, "POST", "/Group", groupJSON(ro.npi, ro.patientIDs...), map[string]string{"X-Provenance": provenance(c.orgID, ro.practitionerID)})
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["id"] != ro.groupID {
		t.Fatalf("second POST: %s", r.body)
	}
}

// TestFHIRWriteContentType: FHIR writes with a non-FHIR Content-Type are 415; Patient
// needs a gender.
func TestFHIRWriteContentType(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	mbi := srv.Generator().MBI(0)
	mustStatus(t, c.api(t, "POST", "/Patient", patientJSON(mbi, c.orgID), map[string]string{"Content-Type": "application/json"}), http.StatusUnsupportedMediaType)
	mustStatus(t, c.api(t, "POST", "/Practitioner", practitionerJSON(srv.Generator().NPI(0)), map[string]string{"Content-Type": "text/plain"}), http.StatusUnsupportedMediaType)
	noGender := strings.Replace(string(patientJSON(mbi, c.orgID)), `"gender":"male",`, "", 1)
	r := c.api(t, "POST", "/Patient", []byte(noGender), nil)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "gender") {
		t.Errorf("no gender: %s", r.body)
	}
	mustStatus(t, c.api(t, "POST", "/Patient", patientJSON(mbi, c.orgID), map[string]string{"Content-Type": "application/fhir+json; charset=UTF-8"}), http.StatusCreated)

	lenient := newServer(t, dpctest.WithLenientMediaTypes())
	lc := onboard(t, lenient)
	mustStatus(t, lc.api(t, "POST", "/Patient", patientJSON(mbi, lc.orgID), map[string]string{"Content-Type": "application/json"}), http.StatusCreated)
}

// TestMetadataVersion: /metadata (CapabilityStatement) and /version are public.
func TestMetadataVersion(t *testing.T) {
	srv := newServer(t, dpctest.WithVersion("1.2.3"))
	r := do(t, "GET", srv.BaseURL()+"/metadata", nil, map[string]string{"Accept": "application/fhir+json"})
	mustStatus(t, r, http.StatusOK)
	m := r.json(t)
	if m["resourceType"] != "CapabilityStatement" || m["fhirVersion"] != "3.0.2" || !strings.Contains(string(r.body), `"everything"`) {
		t.Fatalf("metadata %s", r.body)
	}
	r = do(t, "GET", srv.BaseURL()+"/version", nil, nil)
	mustStatus(t, r, http.StatusOK)
	if string(r.body) != "1.2.3" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("version %q (%s)", r.body, r.header.Get("Content-Type"))
	}
}

// TestPatientEverything: a Bundle of the patient's Patient, EOBs and Coverage; 403 with
// the OperationOutcome for a suppressed patient; X-Provenance required.
func TestPatientEverything(t *testing.T) {
	srv := newServer(t, dpctest.WithSuppressedShare(0.5))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 12)
	prov := map[string]string{"X-Provenance": provenance(c.orgID, ro.practitionerID)}
	g := srv.Generator()
	served, refused := 0, 0
	for i, id := range ro.patientIDs {
		r := c.api(t, "GET", "/Patient/"+id+"/$everything", nil, prov)
		if sup, ok := g.Suppressed(ro.mbis[i]); ok {
			mustStatus(t, r, http.StatusForbidden)
			if !strings.Contains(string(r.body), sup.Text) {
				t.Errorf("suppressed %s: %s", ro.mbis[i], r.body)
			}
			refused++
			continue
		}
		mustStatus(t, r, http.StatusOK)
		var b struct {
			ResourceType string
			Total        int
			Entry        []struct{ Resource struct{ ResourceType string } }
		}
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, e := range b.Entry {
			types[e.Resource.ResourceType]++
		}
		rec := g.Record(ro.mbis[i])
		if b.ResourceType != "Bundle" || types["Patient"] != 1 || types["Coverage"] != len(rec.Coverages) || b.Total != len(b.Entry) {
			t.Errorf("$everything for %s: %v (total %d)", ro.mbis[i], types, b.Total)
		}
		served++
	}
	if served == 0 || refused == 0 {
		t.Fatalf("want both served and suppressed patients, got %d and %d", served, refused)
	}
	mustStatus(t, c.api(t, "GET", "/Patient/"+ro.patientIDs[0]+"/$everything", nil, nil), http.StatusBadRequest)
	mustStatus(t, c.api(t, "GET", "/Patient/6f1a4c8e-0000-4000-8000-000000000000/$everything", nil, prov), http.StatusNotFound)
}

// TestSuppressedPatients: lookback failures and opt-outs come only as OperationOutcome
// lines with DPC's codes and words; the share follows WithSuppressedShare.
func TestSuppressedPatients(t *testing.T) {
	srv := newServer(t, dpctest.WithSuppressedShare(0.8), dpctest.WithBatchSize(50))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 40)
	m := c.wait(t, c.export(t, ro.groupID, ""))
	lines := map[string]map[string]any{} // MBI → issue
	for _, f := range m.Error {
		body := c.api(t, "GET", f.URL, nil, nil).body
		for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			var oo struct {
				ResourceType string
				Issue        []map[string]any
			}
			if err := json.Unmarshal([]byte(l), &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 {
				t.Fatalf("error line %s", l)
			}
			loc, _ := oo.Issue[0]["location"].([]any)
			if len(loc) != 3 || loc[0] != "Patient" || loc[1] != "id" {
				t.Fatalf("location %v", loc)
			}
			lines[loc[2].(string)] = oo.Issue[0]
		}
	}
	g := srv.Generator()
	patients := 0
	for _, f := range m.Output {
		if f.Type == "Patient" {
			patients += f.Count
		}
	}
	want := 0
	for _, mbi := range ro.mbis {
		sup, ok := g.Suppressed(mbi)
		if !ok {
			continue
		}
		want++
		is := lines[mbi]
		if is == nil || is["code"] != sup.Code || is["details"].(map[string]any)["text"] != sup.Text || is["severity"] != "error" {
			t.Errorf("%s: line %v, want %+v", mbi, is, sup)
		}
		if sup.Code == "suppressed" && sup.Text != synth.ReasonLookBackNoDate && sup.Text != synth.ReasonLookBackNoNPI && sup.Text != synth.ReasonLookBackNoData {
			t.Errorf("lookback text %q", sup.Text)
		}
	}
	if len(lines) != want || patients != len(ro.mbis)-want || want < len(ro.mbis)/2 {
		t.Fatalf("%d error lines, %d Patient resources, %d suppressed of %d", len(lines), patients, want, len(ro.mbis))
	}
}

// TestStandardBehaviour: the bundle option restores standard answers everywhere it applies.
func TestStandardBehaviour(t *testing.T) {
	srv := newServer(t, dpctest.WithStandardBehaviour())
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 3)
	mustStatus(t, c.api(t, "POST", "/Group", groupJSON(ro.npi, ro.patientIDs...), map[string]string{"X-Provenance": provenance(c.orgID, ro.practitionerID)}), http.StatusOK)
	job := c.export(t, ro.groupID, "")
	mustStatus(t, c.api(t, "GET", job, nil, map[string]string{"Accept": "application/fhir+json"}), http.StatusAccepted)
	mustStatus(t, c.api(t, "DELETE", job, nil, nil), http.StatusAccepted)
	if srv.RequestsByMethod("DELETE", "/api/v1/Jobs/") != 1 {
		t.Errorf("RequestsByMethod counted %d job DELETEs", srv.RequestsByMethod("DELETE", "/api/v1/Jobs/"))
	}
}

// TestKeyUploadSPKIOnly: DPC parses a PKCS#1 "RSA PUBLIC KEY" but its signature check only
// understands "BEGIN PUBLIC KEY", so the upload is 400 "Public key could not be verified".
func TestKeyUploadSPKIOnly(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	k := genKey(t)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
	body, _ := json.Marshal(map[string]string{"key": pkcs1, "signature": signSnippet(t, k)})
	r := c.api(t, "POST", "/Key?label=pkcs1", body, map[string]string{"Content-Type": "application/json", "Accept": "application/json"})
	mustStatus(t, r, http.StatusBadRequest)
	if r.json(t)["message"] != "Public key could not be verified" {
		t.Errorf("body %s", r.body)
	}
	body, _ = json.Marshal(map[string]string{"key": publicPEM(t, &k.PublicKey), "signature": signSnippet(t, k)})
	mustStatus(t, c.api(t, "POST", "/Key?label=spki", body, map[string]string{"Content-Type": "application/json", "Accept": "application/json"}), http.StatusOK)
}
