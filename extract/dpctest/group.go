package dpctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func (g *group) resource(now time.Time) map[string]any {
	members := make([]any, 0, len(g.members))
	for _, m := range g.members {
		members = append(members, map[string]any{
			"entity":   map[string]string{"reference": "Patient/" + m.patientID},
			"period":   map[string]string{"start": m.start.UTC().Format(time.RFC3339), "end": m.end.UTC().Format(time.RFC3339)},
			"inactive": m.inactive(now),
		})
	}
	return map[string]any{
		"resourceType": "Group",
		"id":           g.id,
		"meta":         map[string]any{"lastUpdated": fhirTime(g.updated)},
		"type":         "person",
		"actual":       true,
		"characteristic": []any{map[string]any{
			"code":                 map[string]any{"coding": []any{map[string]string{"code": "attributed-to"}}},
			"valueCodeableConcept": map[string]any{"coding": []any{map[string]string{"system": systemNPI, "code": g.npi}}},
			"exclude":              false,
		}},
		"member": members,
	}
}

// groupNPI reads the attributed-to NPI of a Group (characteristic may be an
// object, as in one of the guide's examples, or the proper array).
func groupNPI(raw json.RawMessage) string {
	type char struct {
		Code struct {
			Coding []coding `json:"coding"`
		} `json:"code"`
		ValueCodeableConcept struct {
			Coding []coding `json:"coding"`
		} `json:"valueCodeableConcept"`
	}
	var cs []char
	if err := json.Unmarshal(raw, &cs); err != nil {
		var c char
		if json.Unmarshal(raw, &c) != nil {
			return ""
		}
		cs = []char{c}
	}
	for _, c := range cs {
		for _, v := range c.ValueCodeableConcept.Coding {
			if v.Code != "" {
				return v.Code
			}
		}
	}
	return ""
}

// provenance is the STU3 attestation DPC requires in X-Provenance.
type provenance struct {
	ResourceType string `json:"resourceType"`
	Meta         struct {
		Profile []string `json:"profile"`
	} `json:"meta"`
	Recorded string   `json:"recorded"`
	Reason   []coding `json:"reason"`
	Agent    []struct {
		Role []struct {
			Coding []coding `json:"coding"`
		} `json:"role"`
		WhoReference        reference `json:"whoReference"`
		OnBehalfOfReference reference `json:"onBehalfOfReference"`
	} `json:"agent"`
}

// checkProvenanceLocked validates the X-Provenance header for a change to the
// group attributed to npi ("": any practitioner of the organization, for $everything). It writes the error (400 missing/unparseable, 422
// profile violations and NPI mismatch) and returns false on failure.
func (s *Server) checkProvenanceLocked(w http.ResponseWriter, r *http.Request, o *org, npi string) bool {
	h := r.Header.Get("X-Provenance")
	if h == "" {
		writeOO(w, http.StatusBadRequest, "required", "Must have X-Provenance header")
		return false
	}
	var p provenance
	if err := json.Unmarshal([]byte(h), &p); err != nil || p.ResourceType != "Provenance" {
		writeOO(w, http.StatusBadRequest, "structure", "X-Provenance must be a Provenance resource")
		return false
	}
	fail := func(msg string) bool {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", msg)
		return false
	}
	hasProfile := false
	for _, pr := range p.Meta.Profile {
		hasProfile = hasProfile || pr == profileAttestation
	}
	if !hasProfile {
		return fail("Provenance must declare profile " + profileAttestation)
	}
	if _, err := parseISO(p.Recorded); p.Recorded == "" || err != nil {
		return fail("Provenance must have a recorded date-time")
	}
	treat := false
	for _, c := range p.Reason {
		treat = treat || (c.System == "http://hl7.org/fhir/v3/ActReason" && c.Code == "TREAT")
	}
	if !treat {
		return fail("Provenance reason must be http://hl7.org/fhir/v3/ActReason#TREAT")
	}
	if len(p.Agent) != 1 {
		return fail("Provenance must have exactly one agent")
	}
	a := p.Agent[0]
	agnt := false
	for _, role := range a.Role {
		for _, c := range role.Coding {
			agnt = agnt || c.Code == "AGNT"
		}
	}
	if !agnt {
		return fail("Provenance agent role must be AGNT")
	}
	if a.WhoReference.Reference != "Organization/"+o.id {
		return fail("Provenance agent whoReference must be Organization/" + o.id)
	}
	pr, ok := o.practByID[strings.TrimPrefix(a.OnBehalfOfReference.Reference, "Practitioner/")]
	if !ok || !strings.HasPrefix(a.OnBehalfOfReference.Reference, "Practitioner/") {
		return fail("Provenance onBehalfOfReference must be a Practitioner of the organization")
	}
	if npi != "" && pr.npi != npi {
		return fail("Provenance practitioner NPI " + pr.npi + " does not match the group's NPI " + npi)
	}
	return true
}

// memberIDsLocked reads the patient ids of a Group body; every one must be a
// patient of o, else 400 "All patients in group must exist" with how many were not found
// (GroupResource.verifyAndGetMembers).
func memberIDsLocked(w http.ResponseWriter, o *org, ri *resourceIn) ([]string, bool) {
	ids := make([]string, 0, len(ri.Member))
	seen := map[string]bool{}
	missing := 0
	for _, m := range ri.Member {
		id, ok := strings.CutPrefix(m.Entity.Reference, "Patient/")
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, known := o.patByID[id]; !ok || !known {
			missing++
			continue
		}
		ids = append(ids, id)
	}
	if missing > 0 {
		writeOO(w, http.StatusBadRequest, "invalid", fmt.Sprintf("All patients in group must exist. Cannot find %d patient(s).", missing))
		return nil, false
	}
	return ids, true
}

// msgRosterLimit is DPC's answer to a group that would pass the patient limit.
const msgRosterLimit = "Roster limit reached"

// rosterTooBig counts distinct member references over the given member lists, as
// AbstractGroupResource.rosterSizeTooBig does.
func (s *Server) rosterTooBig(lists ...[]string) bool {
	if s.cfg.rosterLimit <= 0 {
		return false
	}
	seen := map[string]bool{}
	for _, l := range lists {
		for _, id := range l {
			seen[id] = true
		}
	}
	return len(seen) > s.cfg.rosterLimit
}

func refs(ri *resourceIn) []string {
	out := make([]string, len(ri.Member))
	for i, m := range ri.Member {
		out[i] = strings.TrimPrefix(m.Entity.Reference, "Patient/")
	}
	return out
}

// msgDuplicateGroup is DPC's answer (403) to a second roster for a practitioner.
const msgDuplicateGroup = "Could not create a roster for this provider as they already have one.  Try updating it instead, or first deleting it."

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, o *org) {
	var ri resourceIn
	if !s.readResource(w, r, &ri) {
		return
	}
	if ri.ResourceType != "Group" {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", "resource must be a Group")
		return
	}
	npi := groupNPI(ri.Characteristic)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checkProvenanceLocked(w, r, o, npi) {
		return
	}
	if npi == "" {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", "Group must have an attributed-to characteristic with a practitioner NPI")
		return
	}
	pr, ok := o.practByNPI[npi]
	if !ok {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", "No practitioner with NPI "+npi+" in the organization")
		return
	}
	if s.rosterTooBig(refs(&ri)) {
		writeOO(w, http.StatusBadRequest, "invalid", msgRosterLimit)
		return
	}
	now := s.clock.Now()
	if g, ok := o.groupByNPI[npi]; ok {
		if s.cfg.duplicateGroupOK {
			writeJSON(w, http.StatusOK, fhirJSON, g.resource(now))
			return
		}
		writeOO(w, http.StatusForbidden, "forbidden", msgDuplicateGroup)
		return
	}
	ids, ok := memberIDsLocked(w, o, &ri)
	if !ok {
		return
	}
	g := &group{id: newUUID(), npi: npi, practitionerID: pr.id, memberIdx: map[string]int{}}
	g.attribute(ids, now)
	o.groups = append(o.groups, g)
	o.groupByID[g.id] = g
	o.groupByNPI[npi] = g
	w.Header().Set("Location", s.apiBase(r)+"/Group/"+g.id)
	writeJSON(w, http.StatusCreated, fhirJSON, g.resource(now))
}

// changeGroup runs the shared part of PUT, $add and $remove.
func (s *Server) changeGroup(w http.ResponseWriter, r *http.Request, o *org, op string, apply func(g *group, ids []string, now time.Time)) {
	needProvenance := op != "remove"
	var ri resourceIn
	if !s.readResource(w, r, &ri) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := o.groupByID[r.PathValue("id")]
	if !ok {
		writeOO(w, http.StatusNotFound, "not-found", "Cannot find group")
		return
	}
	if ri.ResourceType != "Group" {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", "resource must be a Group")
		return
	}
	if npi := groupNPI(ri.Characteristic); npi != "" && npi != g.npi {
		writeOO(w, http.StatusUnprocessableEntity, "invalid", "Group NPI cannot be changed")
		return
	}
	if needProvenance && !s.checkProvenanceLocked(w, r, o, g.npi) {
		return
	}
	switch op {
	case "put":
		if s.rosterTooBig(refs(&ri)) {
			writeOO(w, http.StatusBadRequest, "invalid", msgRosterLimit)
			return
		}
	case "add":
		// Every member counts, inactive ones too: the roster as stored plus the update.
		existing := make([]string, len(g.members))
		for i, m := range g.members {
			existing[i] = m.patientID
		}
		if s.rosterTooBig(existing, refs(&ri)) {
			writeOO(w, http.StatusBadRequest, "invalid", msgRosterLimit)
			return
		}
	case "remove":
		for _, id := range refs(&ri) {
			if _, ok := g.memberIdx[id]; !ok {
				writeOO(w, http.StatusBadRequest, "invalid", "Cannot find attribution relationship.")
				return
			}
		}
	}
	ids, ok := memberIDsLocked(w, o, &ri)
	if !ok {
		return
	}
	now := s.clock.Now()
	apply(g, ids, now)
	writeJSON(w, http.StatusOK, fhirJSON, g.resource(now))
}

func (s *Server) putGroup(w http.ResponseWriter, r *http.Request, o *org) {
	s.changeGroup(w, r, o, "put", func(g *group, ids []string, now time.Time) {
		g.members, g.memberIdx = nil, map[string]int{}
		g.attribute(ids, now)
	})
}

func (s *Server) addToGroup(w http.ResponseWriter, r *http.Request, o *org) {
	s.changeGroup(w, r, o, "add", func(g *group, ids []string, now time.Time) { g.attribute(ids, now) })
}

func (s *Server) removeFromGroup(w http.ResponseWriter, r *http.Request, o *org) {
	s.changeGroup(w, r, o, "remove", func(g *group, ids []string, now time.Time) {
		for _, id := range ids {
			if i, ok := g.memberIdx[id]; ok {
				g.members[i].removed = true
			}
		}
		g.updated = now
	})
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, o *org) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := o.groups
	if v := r.URL.Query().Get("characteristic-value"); v != "" {
		npi, ok := strings.CutPrefix(v, "attributed-to$")
		if !ok || npi == "" {
			writeOO(w, http.StatusBadRequest, "invalid", "characteristic-value must be attributed-to$<NPI>")
			return
		}
		list = nil
		if g, ok := o.groupByNPI[npi]; ok {
			list = []*group{g}
		}
	}
	now := s.clock.Now()
	s.searchBundle(w, r, len(list), func(i int) any { return list[i].resource(now) })
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, o *org) {
	getResource(s, w, r, o.groupByID, "group", func(g *group) any { return g.resource(s.clock.Now()) })
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, o *org) {
	deleteResource(s, w, r, o.groupByID, "group", func(g *group) {
		delete(o.groupByID, g.id)
		delete(o.groupByNPI, g.npi)
		o.groups = removeFirst(o.groups, g)
	})
}
