package dpctest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	systemNPI          = "http://hl7.org/fhir/sid/us-npi"
	systemMBI          = "http://hl7.org/fhir/sid/us-mbi"
	systemBeneIDMBI    = "https://bluebutton.cms.gov/resources/variables/bene_id"
	profilePractioner  = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-practitioner"
	profilePatient     = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-patient"
	profileAttestation = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attestation"
)

// mbiPattern is the MBI shape DPC accepts: C A AN N A AN N A A N N. Like DPC it
// accepts any letter, so BFD's synthetic MBIs (with S) pass.
var mbiPattern = regexp.MustCompile(`^[1-9][A-Za-z][A-Za-z0-9][0-9][A-Za-z][A-Za-z0-9][0-9][A-Za-z]{2}[0-9]{2}$`)

// validNPI checks a 10-digit NPI with the Luhn check digit over "80840"+first 9 digits.
func validNPI(npi string) bool {
	if len(npi) != 10 {
		return false
	}
	for _, c := range npi {
		if c < '0' || c > '9' {
			return false
		}
	}
	digits := "80840" + npi
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// ---- incoming FHIR shapes (only the fields the sandbox reads) ----

type coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type reference struct {
	Reference string `json:"reference"`
}

type resourceIn struct {
	ResourceType string `json:"resourceType"`
	Identifier   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Name []struct {
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	BirthDate            string     `json:"birthDate"`
	Gender               string     `json:"gender"`
	ManagingOrganization *reference `json:"managingOrganization"`
	// Group
	Characteristic json.RawMessage `json:"characteristic"`
	Member         []struct {
		Entity reference `json:"entity"`
	} `json:"member"`
}

func (s *Server) readResource(w http.ResponseWriter, r *http.Request, into any) bool {
	if !s.fhirBody(w, r) {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err != nil {
		writeOO(w, http.StatusBadRequest, "structure", "Unable to parse body as a FHIR resource")
		return false
	}
	return true
}

func (ri *resourceIn) identifier(systems ...string) string {
	for _, id := range ri.Identifier {
		for _, s := range systems {
			if id.System == s && id.Value != "" {
				return id.Value
			}
		}
	}
	return ""
}

// ---- Organization ----

// getOrganization answers GET /Organization/{id} with the Organization and GET
// /Organization with a collection Bundle of it (OrganizationResource.orgSearch).
func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, o *org) {
	id := r.PathValue("id")
	if id != "" && id != o.id {
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find organization")
		return
	}
	res := map[string]any{
		"resourceType": "Organization",
		"id":           o.id,
		"name":         o.name,
		"address": []any{map[string]any{"use": "work", "type": "postal", "line": []string{"1 Main Street"},
			"city": "Baltimore", "state": "MD", "postalCode": "21224", "country": "US"}},
	}
	if o.npi != "" {
		res["identifier"] = []any{map[string]string{"system": systemNPI, "value": o.npi}}
	}
	if id == "" {
		writeJSON(w, http.StatusOK, fhirJSON, collection([]any{res}))
		return
	}
	writeJSON(w, http.StatusOK, fhirJSON, res)
}

// ---- Bundles and paging ----

// searchBundle answers a search with a searchset Bundle of n resources, paged
// by _count/_offset with self/first/prev/next links; _count=0 gives only the total.
func (s *Server) searchBundle(w http.ResponseWriter, r *http.Request, n int, render func(i int) any) {
	q := r.URL.Query()
	count, offset := n, 0
	paged := q.Has("_count") || q.Has("_offset")
	var err error
	if q.Has("_count") {
		if count, err = strconv.Atoi(q.Get("_count")); err != nil || count < 0 {
			writeOO(w, http.StatusBadRequest, "invalid", "_count must be a non-negative integer")
			return
		}
	}
	if q.Has("_offset") {
		if offset, err = strconv.Atoi(q.Get("_offset")); err != nil || offset < 0 {
			writeOO(w, http.StatusBadRequest, "invalid", "_offset must be a non-negative integer")
			return
		}
	}
	entries := []any{}
	for i := offset; i < n && i < offset+count; i++ {
		entries = append(entries, map[string]any{"resource": render(i)})
	}
	b := map[string]any{"resourceType": "Bundle", "type": "searchset", "total": n}
	if count > 0 || !paged {
		b["entry"] = entries
	}
	if paged {
		link := func(rel string, off int) map[string]string {
			v := url.Values{}
			for k, vs := range q {
				if k != "_offset" && k != "_count" && k != "token" {
					v[k] = vs
				}
			}
			v.Set("_count", strconv.Itoa(count))
			v.Set("_offset", strconv.Itoa(off))
			return map[string]string{"relation": rel, "url": s.apiBase(r) + strings.TrimPrefix(r.URL.Path, apiPrefix) + "?" + v.Encode()}
		}
		links := []any{link("self", offset)}
		if count > 0 {
			links = append(links, link("first", 0))
			if offset > 0 {
				links = append(links, link("prev", max(0, offset-count)))
			}
			if offset+count < n {
				links = append(links, link("next", offset+count))
			}
		}
		b["link"] = links
	}
	writeJSON(w, http.StatusOK, fhirJSON, b)
}

// searchValue strips an optional "system|" prefix from a token search value.
func searchValue(v string) string {
	if i := strings.LastIndexByte(v, '|'); i >= 0 {
		return v[i+1:]
	}
	return v
}

// ---- Practitioner ----

func (p *practitioner) resource() map[string]any {
	return map[string]any{
		"resourceType": "Practitioner",
		"id":           p.id,
		"meta":         map[string]any{"lastUpdated": fhirTime(p.updated), "profile": []string{profilePractioner}},
		"identifier":   []any{map[string]string{"system": systemNPI, "value": p.npi}},
		"name":         []any{map[string]any{"family": p.family, "given": []string{p.given}}},
	}
}

// practitionerFrom validates a Practitioner against DPC's profile; "" error means valid.
func practitionerFrom(ri *resourceIn) (*practitioner, string) {
	if ri.ResourceType != "Practitioner" {
		return nil, "resource must be a Practitioner"
	}
	npi := ri.identifier(systemNPI)
	if npi == "" {
		return nil, "Practitioner must have an NPI identifier (" + systemNPI + ")"
	}
	if !validNPI(npi) {
		return nil, "Practitioner NPI " + npi + " is not a valid NPI"
	}
	if len(ri.Name) == 0 || ri.Name[0].Family == "" || len(ri.Name[0].Given) == 0 || ri.Name[0].Given[0] == "" {
		return nil, "Practitioner must have a first and last name"
	}
	return &practitioner{npi: npi, family: ri.Name[0].Family, given: ri.Name[0].Given[0]}, ""
}

// practitionerLimitLocked answers 422 "Provider limit reached" (PractitionerResource.
// submitProvider) when adding more practitioners would pass the configured limit. Like DPC
// a single POST is refused once the organization is at the limit, even for a known NPI.
func (s *Server) practitionerLimitLocked(w http.ResponseWriter, o *org, adding int) bool {
	lim := s.cfg.practitionerLimit
	if n := len(o.practitioners); lim <= 0 || (n < lim && n+adding <= lim) {
		return false
	}
	writeJSON(w, http.StatusUnprocessableEntity, fhirJSON, map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []any{map[string]any{"severity": "error", "code": "business-rule", "diagnostics": "Provider limit reached"}},
	})
	return true
}

// addPractitionerLocked stores p (or returns the practitioner already registered with its NPI).
func (o *org) addPractitionerLocked(p *practitioner, now time.Time) (*practitioner, bool) {
	if old, ok := o.practByNPI[p.npi]; ok {
		return old, false
	}
	p.id, p.updated = newUUID(), now
	o.practitioners = append(o.practitioners, p)
	o.practByID[p.id] = p
	o.practByNPI[p.npi] = p
	return p, true
}

func (s *Server) createPractitioner(w http.ResponseWriter, r *http.Request, o *org) {
	var ri resourceIn
	if !s.readResource(w, r, &ri) {
		return
	}
	p, msg := practitionerFrom(&ri)
	if msg != "" {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	s.mu.Lock()
	if s.practitionerLimitLocked(w, o, 1) {
		s.mu.Unlock()
		return
	}
	p, created := o.addPractitionerLocked(p, s.clock.Now())
	res := p.resource()
	s.mu.Unlock()
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", s.apiBase(r)+"/Practitioner/"+p.id)
	}
	writeJSON(w, status, fhirJSON, res)
}

// submittedResources unwraps the Parameters{resource: Bundle} body of $submit.
func (s *Server) submittedResources(w http.ResponseWriter, r *http.Request) ([]resourceIn, bool) {
	var params struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Entry        []struct {
					Resource resourceIn `json:"resource"`
				} `json:"entry"`
			} `json:"resource"`
		} `json:"parameter"`
	}
	if !s.readResource(w, r, &params) {
		return nil, false
	}
	if params.ResourceType != "Parameters" || len(params.Parameter) != 1 || params.Parameter[0].Resource.ResourceType != "Bundle" {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", "$submit takes a Parameters resource wrapping one Bundle")
		return nil, false
	}
	var out []resourceIn
	for _, e := range params.Parameter[0].Resource.Entry {
		out = append(out, e.Resource)
	}
	return out, true
}

func collection(resources []any) map[string]any {
	entries := make([]any, len(resources))
	for i, res := range resources {
		entries[i] = map[string]any{"resource": res}
	}
	return map[string]any{"resourceType": "Bundle", "type": "collection", "total": len(resources), "entry": entries}
}

func (s *Server) submitPractitioners(w http.ResponseWriter, r *http.Request, o *org) {
	in, ok := s.submittedResources(w, r)
	if !ok {
		return
	}
	ps := make([]*practitioner, len(in))
	for i := range in {
		p, msg := practitionerFrom(&in[i])
		if msg != "" {
			writeOO(w, http.StatusUnprocessableEntity, "invalid", "entry "+strconv.Itoa(i)+": "+msg)
			return
		}
		ps[i] = p
	}
	s.mu.Lock()
	fresh := 0
	for _, p := range ps {
		if _, ok := o.practByNPI[p.npi]; !ok {
			fresh++
		}
	}
	if fresh > 0 && s.practitionerLimitLocked(w, o, fresh) {
		s.mu.Unlock()
		return
	}
	now := s.clock.Now()
	out := make([]any, len(ps))
	for i, p := range ps {
		p, _ = o.addPractitionerLocked(p, now)
		out[i] = p.resource()
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, fhirJSON, collection(out))
}

func (s *Server) listPractitioners(w http.ResponseWriter, r *http.Request, o *org) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := o.practitioners
	if v := r.URL.Query().Get("identifier"); v != "" {
		list = nil
		if p, ok := o.practByNPI[searchValue(v)]; ok {
			list = []*practitioner{p}
		}
	}
	s.searchBundle(w, r, len(list), func(i int) any { return list[i].resource() })
}

func (s *Server) getPractitioner(w http.ResponseWriter, r *http.Request, o *org) {
	getResource(s, w, r, o.practByID, "practitioner", func(p *practitioner) any { return p.resource() })
}

func (s *Server) deletePractitioner(w http.ResponseWriter, r *http.Request, o *org) {
	deleteResource(s, w, r, o.practByID, "practitioner", func(p *practitioner) {
		delete(o.practByID, p.id)
		delete(o.practByNPI, p.npi)
		o.practitioners = removeFirst(o.practitioners, p)
	})
}

// getResource answers a FHIR read of the resource named by the request's {id}, rendered by
// render under s.mu, or 404 "Cannot find <what>".
func getResource[T any](s *Server, w http.ResponseWriter, r *http.Request, byID map[string]T, what string, render func(T) any) {
	s.mu.Lock()
	v, ok := byID[r.PathValue("id")]
	var res any
	if ok {
		res = render(v)
	}
	s.mu.Unlock()
	if !ok {
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find "+what)
		return
	}
	writeJSON(w, http.StatusOK, fhirJSON, res)
}

// deleteResource removes the resource named by the request's {id}, with forget (called under
// s.mu) dropping it from every index, or answers 404 "Cannot find <what>".
func deleteResource[T any](s *Server, w http.ResponseWriter, r *http.Request, byID map[string]T, what string, forget func(T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := byID[r.PathValue("id")]
	if !ok {
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find "+what)
		return
	}
	forget(v)
	w.WriteHeader(http.StatusOK)
}

func removeFirst[T comparable](list []T, v T) []T {
	for i, x := range list {
		if x == v {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// ---- Patient ----

func (p *patient) resource(orgID string) map[string]any {
	res := map[string]any{
		"resourceType":         "Patient",
		"id":                   p.id,
		"meta":                 map[string]any{"lastUpdated": fhirTime(p.updated), "profile": []string{profilePatient}},
		"identifier":           []any{map[string]string{"system": systemMBI, "value": p.mbi}},
		"name":                 []any{map[string]any{"family": p.family, "given": []string{p.given}}},
		"birthDate":            p.birthDate,
		"managingOrganization": map[string]string{"reference": "Organization/" + orgID},
	}
	if p.gender != "" {
		res["gender"] = p.gender
	}
	return res
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func patientFrom(ri *resourceIn, orgID string) (*patient, string) {
	if ri.ResourceType != "Patient" {
		return nil, "resource must be a Patient"
	}
	mbi := ri.identifier(systemMBI, systemBeneIDMBI)
	if mbi == "" {
		return nil, "Patient must have an MBI identifier (" + systemMBI + ")"
	}
	if !mbiPattern.MatchString(mbi) {
		return nil, "Patient MBI " + mbi + " is not a valid MBI"
	}
	if len(ri.Name) == 0 || ri.Name[0].Family == "" || len(ri.Name[0].Given) == 0 || ri.Name[0].Given[0] == "" {
		return nil, "Patient must have a first and last name"
	}
	if _, err := time.Parse("2006-01-02", ri.BirthDate); err != nil || !datePattern.MatchString(ri.BirthDate) {
		return nil, "Patient must have a birth date (YYYY-MM-DD)"
	}
	if mo := ri.ManagingOrganization; mo != nil && mo.Reference != "" && mo.Reference != "Organization/"+orgID {
		return nil, "Patient managingOrganization must be Organization/" + orgID
	}
	switch ri.Gender {
	case "":
		return nil, "Patient must have a gender (DPC's patient profile requires Patient.gender)"
	case "male", "female", "other", "unknown":
	default:
		return nil, "Patient gender must be male, female, other or unknown"
	}
	return &patient{mbi: strings.ToUpper(mbi), family: ri.Name[0].Family, given: ri.Name[0].Given[0],
		birthDate: ri.BirthDate, gender: ri.Gender}, ""
}

func (o *org) addPatientLocked(p *patient, now time.Time) (*patient, bool) {
	if old, ok := o.patByMBI[p.mbi]; ok {
		return old, false
	}
	p.id, p.updated = newUUID(), now
	o.patients = append(o.patients, p)
	o.patByID[p.id] = p
	o.patByMBI[p.mbi] = p
	return p, true
}

func (s *Server) createPatient(w http.ResponseWriter, r *http.Request, o *org) {
	var ri resourceIn
	if !s.readResource(w, r, &ri) {
		return
	}
	p, msg := patientFrom(&ri, o.id)
	if msg != "" {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	s.mu.Lock()
	p, created := o.addPatientLocked(p, s.clock.Now())
	res := p.resource(o.id)
	s.mu.Unlock()
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", s.apiBase(r)+"/Patient/"+p.id)
	}
	writeJSON(w, status, fhirJSON, res)
}

func (s *Server) submitPatients(w http.ResponseWriter, r *http.Request, o *org) {
	in, ok := s.submittedResources(w, r)
	if !ok {
		return
	}
	ps := make([]*patient, len(in))
	for i := range in {
		p, msg := patientFrom(&in[i], o.id)
		if msg != "" {
			writeOO(w, http.StatusUnprocessableEntity, "invalid", "entry "+strconv.Itoa(i)+": "+msg)
			return
		}
		ps[i] = p
	}
	s.mu.Lock()
	now := s.clock.Now()
	out := make([]any, len(ps))
	for i, p := range ps {
		p, _ = o.addPatientLocked(p, now)
		out[i] = p.resource(o.id)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, fhirJSON, collection(out))
}

func (s *Server) listPatients(w http.ResponseWriter, r *http.Request, o *org) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := o.patients
	if v := r.URL.Query().Get("identifier"); v != "" {
		list = nil
		if p, ok := o.patByMBI[strings.ToUpper(searchValue(v))]; ok {
			list = []*patient{p}
		}
	}
	s.searchBundle(w, r, len(list), func(i int) any { return list[i].resource(o.id) })
}

func (s *Server) getPatient(w http.ResponseWriter, r *http.Request, o *org) {
	getResource(s, w, r, o.patByID, "patient", func(p *patient) any { return p.resource(o.id) })
}

func (s *Server) deletePatient(w http.ResponseWriter, r *http.Request, o *org) {
	deleteResource(s, w, r, o.patByID, "patient", func(p *patient) {
		delete(o.patByID, p.id)
		delete(o.patByMBI, p.mbi)
		o.patients = removeFirst(o.patients, p)
	})
}
