package dpctest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOrganization(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	// GET /Organization is a collection Bundle of one (OrganizationResource.orgSearch).
	r := c.api(t, "GET", "/Organization", nil, nil)
	mustStatus(t, r, http.StatusOK)
	var b struct {
		ResourceType, Type string
		Total              int
		Entry              []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if b.ResourceType != "Bundle" || b.Type != "collection" || b.Total != 1 || len(b.Entry) != 1 {
		t.Fatalf("GET /Organization: want a collection Bundle of one, got %s", r.body)
	}
	if org := b.Entry[0].Resource; org["resourceType"] != "Organization" || org["id"] != c.orgID || org["name"] != "Test Org" {
		t.Fatalf("organization %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/fhir+json" {
		t.Errorf("Content-Type %q", ct)
	}
	r = c.api(t, "GET", "/Organization/"+c.orgID, nil, nil)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["resourceType"] != "Organization" {
		t.Fatalf("GET /Organization/{id}: %s", r.body)
	}
	other := onboard(t, srv)
	mustStatus(t, c.api(t, "GET", "/Organization/"+other.orgID, nil, nil), http.StatusNotFound)
}

func TestPractitioners(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	g := srv.Generator()
	r := c.api(t, "POST", "/Practitioner", practitionerJSON(g.NPI(1)), nil)
	mustStatus(t, r, http.StatusCreated)
	id := r.json(t)["id"].(string)
	// Registering the same NPI again gives back the existing practitioner.
	r = c.api(t, "POST", "/Practitioner", practitionerJSON(g.NPI(1)), nil)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["id"] != id {
		t.Fatalf("duplicate NPI created a new practitioner")
	}
	for name, body := range map[string]string{
		"bad luhn": strings.Replace(string(practitionerJSON(g.NPI(1))), g.NPI(1), g.NPI(1)[:9]+string(rune('0'+(g.NPI(1)[9]-'0'+1)%10)), 1),
		"no npi":   `{"resourceType":"Practitioner","name":[{"family":"A","given":["B"]}]}`,
		"no name":  `{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"` + g.NPI(2) + `"}]}`,
		"patient":  string(patientJSON(g.MBI(0), c.orgID)),
	} {
		r := c.api(t, "POST", "/Practitioner", []byte(body), nil)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if r.json(t)["resourceType"] != "OperationOutcome" {
			t.Errorf("%s: body %s", name, r.body)
		}
	}
	mustStatus(t, c.api(t, "POST", "/Practitioner", []byte("{"), nil), http.StatusBadRequest)

	bundle := submitBody(practitionerJSON(g.NPI(2)), practitionerJSON(g.NPI(3)))
	r = c.api(t, "POST", "/Practitioner/$submit", bundle, nil)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["total"] != float64(2) {
		t.Fatalf("$submit %s", r.body)
	}
	mustStatus(t, c.api(t, "POST", "/Practitioner/$submit", submitBody([]byte(`{"resourceType":"Practitioner"}`)), nil), http.StatusUnprocessableEntity)

	r = c.api(t, "GET", "/Practitioner", nil, nil)
	mustStatus(t, r, http.StatusOK)
	if r.json(t)["total"] != float64(3) {
		t.Fatalf("list %s", r.body)
	}
	r = c.api(t, "GET", "/Practitioner?identifier="+g.NPI(3), nil, nil)
	if b := r.json(t); b["total"] != float64(1) || !strings.Contains(string(r.body), g.NPI(3)) {
		t.Fatalf("search by NPI %s", r.body)
	}
	mustStatus(t, c.api(t, "GET", "/Practitioner/"+id, nil, nil), http.StatusOK)
	other := onboard(t, srv)
	mustStatus(t, other.api(t, "GET", "/Practitioner/"+id, nil, nil), http.StatusNotFound)
	mustStatus(t, c.api(t, "DELETE", "/Practitioner/"+id, nil, nil), http.StatusOK)
	mustStatus(t, c.api(t, "GET", "/Practitioner/"+id, nil, nil), http.StatusNotFound)
}

func submitBody(resources ...[]byte) []byte {
	var entries []string
	for _, r := range resources {
		entries = append(entries, `{"resource":`+string(r)+`}`)
	}
	return []byte(`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Bundle","type":"collection","entry":[` +
		strings.Join(entries, ",") + `]}}]}`)
}

func TestPatientsPagingAndSearch(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	g := srv.Generator()
	var ps [][]byte
	for i := range 5 {
		ps = append(ps, patientJSON(g.MBI(i), c.orgID))
	}
	r := c.api(t, "POST", "/Patient/$submit", submitBody(ps...), nil)
	mustStatus(t, r, http.StatusOK)

	r = c.api(t, "GET", "/Patient?_count=2&_offset=2", nil, nil)
	mustStatus(t, r, http.StatusOK)
	var b struct {
		Total int `json:"total"`
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
		Link []struct{ Relation, URL string } `json:"link"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	rels := map[string]string{}
	for _, l := range b.Link {
		rels[l.Relation] = l.URL
	}
	if b.Total != 5 || len(b.Entry) != 2 || rels["next"] == "" || rels["prev"] == "" || rels["first"] == "" || rels["self"] == "" {
		t.Fatalf("page: %s", r.body)
	}
	next, _ := url.Parse(rels["next"])
	if next.Query().Get("_offset") != "4" || next.Query().Get("_count") != "2" {
		t.Fatalf("next link %s", rels["next"])
	}
	r = c.api(t, "GET", rels["next"], nil, nil)
	if err := json.Unmarshal(r.body, &b); err != nil || len(b.Entry) != 1 {
		t.Fatalf("last page: %s", r.body)
	}
	r = c.api(t, "GET", "/Patient?_count=0", nil, nil)
	if m := r.json(t); m["total"] != float64(5) || m["entry"] != nil {
		t.Fatalf("_count=0: %s", r.body)
	}
	mustStatus(t, c.api(t, "GET", "/Patient?_count=-1", nil, nil), http.StatusBadRequest)

	r = c.api(t, "GET", "/Patient?identifier="+g.MBI(3), nil, nil)
	if m := r.json(t); m["total"] != float64(1) || !strings.Contains(string(r.body), g.MBI(3)) {
		t.Fatalf("search by MBI: %s", r.body)
	}
	r = c.api(t, "GET", "/Patient?identifier=http://hl7.org/fhir/sid/us-mbi|"+g.MBI(3), nil, nil)
	if r.json(t)["total"] != float64(1) {
		t.Fatalf("search by system|MBI: %s", r.body)
	}
	for name, body := range map[string]string{
		"bad mbi":      string(patientJSON("123", c.orgID)),
		"no birthdate": strings.Replace(string(patientJSON(g.MBI(9), c.orgID)), `"birthDate":"1956-02-08",`, "", 1),
		"other org":    string(patientJSON(g.MBI(9), "6f1a4c8e-0000-4000-8000-000000000000")),
	} {
		r := c.api(t, "POST", "/Patient", []byte(body), nil)
		mustStatus(t, r, http.StatusUnprocessableEntity)
		if r.json(t)["resourceType"] != "OperationOutcome" {
			t.Errorf("%s: %s", name, r.body)
		}
	}
	// The guide's bene_id identifier system is accepted too.
	guide := strings.Replace(string(patientJSON(g.MBI(7), c.orgID)), "http://hl7.org/fhir/sid/us-mbi", "https://bluebutton.cms.gov/resources/variables/bene_id", 1)
	mustStatus(t, c.api(t, "POST", "/Patient", []byte(guide), nil), http.StatusCreated)
}

func TestGroupAttribution(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 3)
	g := srv.Generator()
	prov := provenance(c.orgID, ro.practitionerID)

	// A second practitioner, for the NPI-mismatch check.
	r := c.api(t, "POST", "/Practitioner", practitionerJSON(g.NPI(5)), nil)
	mustStatus(t, r, http.StatusCreated)
	otherPract := r.json(t)["id"].(string)
	r = c.api(t, "POST", "/Patient", patientJSON(g.MBI(10), c.orgID), nil)
	mustStatus(t, r, http.StatusCreated)
	extra := r.json(t)["id"].(string)

	provErrs := []struct {
		name   string
		prov   string
		status int
	}{
		{"missing", "", http.StatusBadRequest},
		{"not json", "{", http.StatusBadRequest},
		{"npi mismatch", provenance(c.orgID, otherPract), http.StatusUnprocessableEntity},
		{"no profile", strings.Replace(prov, "dpc-profile-attestation", "other", 1), http.StatusUnprocessableEntity},
		{"reason not TREAT", strings.Replace(prov, `"TREAT"`, `"HRESCH"`, 1), http.StatusUnprocessableEntity},
		{"role not AGNT", strings.Replace(prov, `"AGNT"`, `"PROV"`, 1), http.StatusUnprocessableEntity},
		{"other organization", provenance("6f1a4c8e-0000-4000-8000-000000000000", ro.practitionerID), http.StatusUnprocessableEntity},
		{"no recorded", strings.Replace(prov, `"recorded":"2026-01-01T00:00:00.000-05:00",`, "", 1), http.StatusUnprocessableEntity},
	}
	for _, pe := range provErrs {
		t.Run("add/"+pe.name, func(t *testing.T) {
			hdr := map[string]string{"X-Provenance": pe.prov}
			r := c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, extra), hdr)
			mustStatus(t, r, pe.status)
			if r.json(t)["resourceType"] != "OperationOutcome" {
				t.Errorf("body %s", r.body)
			}
		})
	}
	mustStatus(t, c.api(t, "PUT", "/Group/"+ro.groupID, groupJSON(ro.npi, extra), nil), http.StatusBadRequest)
	mustStatus(t, c.api(t, "POST", "/Group", groupJSON(g.NPI(5), extra), nil), http.StatusBadRequest)

	// $add: now 4 members, all active with a 90-day period.
	r = c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, extra), map[string]string{"X-Provenance": prov})
	mustStatus(t, r, http.StatusOK)
	members := groupMembers(t, r)
	if len(members) != 4 {
		t.Fatalf("after $add: %s", r.body)
	}
	for _, m := range members {
		start, _ := time.Parse(time.RFC3339, m.Period.Start)
		end, _ := time.Parse(time.RFC3339, m.Period.End)
		if m.Inactive || end.Sub(start) != 90*24*time.Hour {
			t.Fatalf("member %+v", m)
		}
	}
	// $remove needs no attestation and marks the member inactive.
	r = c.api(t, "POST", "/Group/"+ro.groupID+"/$remove", groupJSON(ro.npi, ro.patientIDs[0]), nil)
	mustStatus(t, r, http.StatusOK)
	inactive := 0
	for _, m := range groupMembers(t, r) {
		if m.Inactive {
			inactive++
		}
	}
	if inactive != 1 {
		t.Fatalf("after $remove: %s", r.body)
	}
	// Search by practitioner NPI.
	r = c.api(t, "GET", "/Group?characteristic-value="+url.QueryEscape("attributed-to$"+ro.npi), nil, nil)
	mustStatus(t, r, http.StatusOK)
	if m := r.json(t); m["total"] != float64(1) || !strings.Contains(string(r.body), ro.groupID) {
		t.Fatalf("search: %s", r.body)
	}
	r = c.api(t, "GET", "/Group?characteristic-value="+url.QueryEscape("attributed-to$"+g.NPI(5)), nil, nil)
	if r.json(t)["total"] != float64(0) {
		t.Fatalf("search for NPI without group: %s", r.body)
	}
	mustStatus(t, c.api(t, "GET", "/Group?characteristic-value=wrong", nil, nil), http.StatusBadRequest)

	// A second roster for the same practitioner is refused with 403 (not an auth failure).
	r = c.api(t, "POST", "/Group", groupJSON(ro.npi, extra), map[string]string{"X-Provenance": prov})
	mustStatus(t, r, http.StatusForbidden)
	if !strings.Contains(string(r.body), "already have one") {
		t.Fatalf("duplicate group body: %s", r.body)
	}
	// A group for an NPI that is not a practitioner of the organization.
	mustStatus(t, c.api(t, "POST", "/Group", groupJSON(g.NPI(40), extra), map[string]string{"X-Provenance": prov}), http.StatusUnprocessableEntity)

	// PUT replaces the membership.
	r = c.api(t, "PUT", "/Group/"+ro.groupID, groupJSON(ro.npi, extra), map[string]string{"X-Provenance": prov})
	mustStatus(t, r, http.StatusOK)
	if ms := groupMembers(t, r); len(ms) != 1 || ms[0].Entity.Reference != "Patient/"+extra {
		t.Fatalf("after PUT: %s", r.body)
	}
	// Unknown patient (400, verifyAndGetMembers), $remove of a non-member (400), and other
	// organizations' groups.
	r = c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, "6f1a4c8e-0000-4000-8000-000000000000"), map[string]string{"X-Provenance": prov})
	mustStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "All patients in group must exist. Cannot find 1 patient(s).") {
		t.Errorf("$add of an unregistered patient: %s", r.body)
	}
	r = c.api(t, "POST", "/Group/"+ro.groupID+"/$remove", groupJSON(ro.npi, ro.patientIDs[0]), nil)
	mustStatus(t, r, http.StatusBadRequest) // replaced by the PUT above: not a member any more
	if !strings.Contains(string(r.body), "Cannot find attribution relationship.") {
		t.Errorf("$remove of a non-member: %s", r.body)
	}
	other := onboard(t, srv)
	mustStatus(t, other.api(t, "GET", "/Group/"+ro.groupID, nil, nil), http.StatusNotFound)
	mustStatus(t, other.api(t, "GET", "/Group/"+ro.groupID+"/$export", nil, map[string]string{"Prefer": "respond-async"}), http.StatusNotFound)
}

type memberJSON struct {
	Entity   struct{ Reference string }  `json:"entity"`
	Period   struct{ Start, End string } `json:"period"`
	Inactive bool                        `json:"inactive"`
}

func groupMembers(t *testing.T, r response) []memberJSON {
	t.Helper()
	var g struct {
		ResourceType string       `json:"resourceType"`
		Member       []memberJSON `json:"member"`
	}
	if err := json.Unmarshal(r.body, &g); err != nil || g.ResourceType != "Group" {
		t.Fatalf("not a Group: %s", r.body)
	}
	return g.Member
}

func TestAttributionExpiresAfter90Days(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 2)
	prov := provenance(c.orgID, ro.practitionerID)

	srv.Clock().Advance(89 * 24 * time.Hour)
	c.token = c.accessToken(t)
	// Re-attest one patient on day 89: it stays active, the other expires on day 90.
	mustStatus(t, c.api(t, "POST", "/Group/"+ro.groupID+"/$add", groupJSON(ro.npi, ro.patientIDs[1]), map[string]string{"X-Provenance": prov}), http.StatusOK)
	srv.Clock().Advance(2 * 24 * time.Hour)
	c.token = c.accessToken(t)
	r := c.api(t, "GET", "/Group/"+ro.groupID, nil, nil)
	ms := groupMembers(t, r)
	if !ms[0].Inactive || ms[1].Inactive {
		t.Fatalf("day 91: %s", r.body)
	}
	m := c.wait(t, c.export(t, ro.groupID, "?_type=Patient"))
	total := 0
	for _, f := range append(m.Output, m.Error...) {
		total += f.Count
		body := c.api(t, "GET", f.URL, nil, nil).body
		if strings.Contains(string(body), ro.mbis[0]) {
			t.Fatalf("expired member %s exported", ro.mbis[0])
		}
	}
	if total != 1 {
		t.Fatalf("want 1 exported patient, got %d", total)
	}
	// When every attribution has lapsed the export is refused with 406.
	srv.Clock().Advance(90 * 24 * time.Hour)
	c.token = c.accessToken(t)
	r = c.api(t, "GET", "/Group/"+ro.groupID+"/$export", nil, map[string]string{"Prefer": "respond-async"})
	mustStatus(t, r, http.StatusNotAcceptable)
}
