package dpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// FHIR systems and profiles DPC uses.
const (
	SystemNPI           = "http://hl7.org/fhir/sid/us-npi"
	SystemMBI           = "http://hl7.org/fhir/sid/us-mbi"
	ProfilePatient      = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-patient"
	ProfilePractitioner = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-practitioner"
	ProfileAttestation  = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attestation"
	ProfileGroup        = "https://dpc.cms.gov/api/v1/StructureDefinition/dpc-profile-attribution-roster"
)

// Identifier is a FHIR Identifier.
type Identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

// HumanName is a FHIR HumanName.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// Reference is a FHIR Reference.
type Reference struct {
	Reference string `json:"reference"`
}

// ID returns the id part of a "Type/id" reference.
func (r Reference) ID() string {
	_, id, _ := strings.Cut(r.Reference, "/")
	return id
}

// Meta is FHIR resource metadata.
type Meta struct {
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System string `json:"system,omitempty"`
	Code   string `json:"code"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
}

// Period is a FHIR Period; times are kept as the server wrote them (see Start/End for parsing).
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// StartTime parses Start (zero if absent or unparseable).
func (p Period) StartTime() time.Time { return parseInstant(p.Start) }

// EndTime parses End (zero if absent or unparseable).
func (p Period) EndTime() time.Time { return parseInstant(p.End) }

func parseInstant(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func identifierValue(ids []Identifier, system string) string {
	for _, id := range ids {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

// Organization is the caller's DPC organization.
type Organization struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         string       `json:"name,omitempty"`
}

// NPI is the organization's NPI identifier value.
func (o Organization) NPI() string { return identifierValue(o.Identifier, SystemNPI) }

// Practitioner is a DPC Practitioner (dpc-profile-practitioner).
type Practitioner struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Meta         *Meta        `json:"meta,omitempty"`
	Identifier   []Identifier `json:"identifier,omitempty"`
	Name         []HumanName  `json:"name,omitempty"`
}

// NPI is the practitioner's NPI.
func (p Practitioner) NPI() string { return identifierValue(p.Identifier, SystemNPI) }

// NewPractitioner builds a profile-conformant Practitioner.
func NewPractitioner(npi, given, family string) Practitioner {
	return Practitioner{
		ResourceType: "Practitioner",
		Meta:         &Meta{Profile: []string{ProfilePractitioner}},
		Identifier:   []Identifier{{System: SystemNPI, Value: npi}},
		Name:         []HumanName{{Family: family, Given: []string{given}}},
	}
}

// Patient is a DPC Patient (dpc-profile-patient).
type Patient struct {
	ResourceType         string       `json:"resourceType"`
	ID                   string       `json:"id,omitempty"`
	Meta                 *Meta        `json:"meta,omitempty"`
	Identifier           []Identifier `json:"identifier,omitempty"`
	Name                 []HumanName  `json:"name,omitempty"`
	Gender               string       `json:"gender,omitempty"`
	BirthDate            string       `json:"birthDate,omitempty"`
	ManagingOrganization *Reference   `json:"managingOrganization,omitempty"`
}

// MBI is the patient's Medicare Beneficiary Identifier. DPC's profile fixes the us-mbi system,
// but the guide's example uses bene_id, so a lone identifier is accepted as the MBI.
func (p Patient) MBI() string {
	if v := identifierValue(p.Identifier, SystemMBI); v != "" {
		return v
	}
	if len(p.Identifier) == 1 {
		return p.Identifier[0].Value
	}
	return ""
}

// NewPatient builds a profile-conformant Patient managed by orgID (may be empty).
func NewPatient(mbi, given, family, birthDate, gender, orgID string) Patient {
	p := Patient{
		ResourceType: "Patient",
		Meta:         &Meta{Profile: []string{ProfilePatient}},
		Identifier:   []Identifier{{System: SystemMBI, Value: mbi}},
		Name:         []HumanName{{Family: family, Given: []string{given}}},
		Gender:       gender,
		BirthDate:    birthDate,
	}
	if orgID != "" {
		p.ManagingOrganization = &Reference{Reference: "Organization/" + orgID}
	}
	return p
}

// Characteristic is a Group characteristic ("attributed-to" → practitioner NPI).
type Characteristic struct {
	Code                 CodeableConcept `json:"code"`
	ValueCodeableConcept CodeableConcept `json:"valueCodeableConcept"`
	Exclude              bool            `json:"exclude"`
}

// Characteristics accepts a single object as well as an array, because one of the guide's
// examples shows "characteristic" as an object.
type Characteristics []Characteristic

// UnmarshalJSON accepts an object or an array.
func (cs *Characteristics) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var c Characteristic
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		*cs = Characteristics{c}
		return nil
	}
	var list []Characteristic
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*cs = list
	return nil
}

// Member is one attributed patient of a Group. DPC adds Period (when the attribution started and
// when it lapses) and Inactive (expired or removed) in its responses.
type Member struct {
	Entity   Reference `json:"entity"`
	Period   *Period   `json:"period,omitempty"`
	Inactive *bool     `json:"inactive,omitempty"`
}

// PatientID is the member's patient resource id.
func (m Member) PatientID() string { return m.Entity.ID() }

// Active reports whether the attribution is in force at now: not flagged inactive and, when the
// server gave a period end, not yet past it.
func (m Member) Active(now time.Time) bool {
	if m.Inactive != nil && *m.Inactive {
		return false
	}
	if m.Period != nil {
		if end := m.Period.EndTime(); !end.IsZero() && !now.Before(end) {
			return false
		}
	}
	return true
}

// Group is a DPC attribution roster: one practitioner's attributed patients.
type Group struct {
	ResourceType   string          `json:"resourceType"`
	ID             string          `json:"id,omitempty"`
	Meta           *Meta           `json:"meta,omitempty"`
	Type           string          `json:"type,omitempty"`
	Actual         bool            `json:"actual"`
	Characteristic Characteristics `json:"characteristic,omitempty"`
	Member         []Member        `json:"member,omitempty"`
}

// NPI is the practitioner NPI the group is attributed to.
func (g Group) NPI() string {
	for _, c := range g.Characteristic {
		for _, cd := range c.ValueCodeableConcept.Coding {
			if cd.System == SystemNPI || cd.System == "" {
				return cd.Code
			}
		}
	}
	return ""
}

// NewGroup builds an attribution roster for the practitioner npi with the given patient ids.
func NewGroup(npi string, patientIDs []string) Group {
	g := Group{
		ResourceType: "Group",
		Type:         "person",
		Actual:       true,
		Characteristic: Characteristics{{
			Code:                 CodeableConcept{Coding: []Coding{{Code: "attributed-to"}}},
			ValueCodeableConcept: CodeableConcept{Coding: []Coding{{System: SystemNPI, Code: npi}}},
		}},
	}
	for _, id := range patientIDs {
		g.Member = append(g.Member, Member{Entity: Reference{Reference: "Patient/" + id}})
	}
	return g
}

// bundle is a FHIR Bundle as DPC sends it (searchset or collection).
type bundle struct {
	ResourceType string `json:"resourceType"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link,omitempty"`
	Entry []bundleEntry `json:"entry,omitempty"`
}

type bundleEntry struct {
	Resource json.RawMessage `json:"resource"`
}

func (b bundle) next() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// DecodeResources reads the resources of a Bundle, of Parameters wrapping one (DPC's $submit
// files and answers), of a JSON array, or one bare resource of type rt. With rt set, every
// resource must be of that type; errors name the entry (1-based).
func DecodeResources[T any](b []byte, rt string) ([]T, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		var w struct {
			ResourceType string        `json:"resourceType"`
			Parameter    []bundleEntry `json:"parameter"`
			Entry        []bundleEntry `json:"entry"`
		}
		if err := json.Unmarshal(b, &w); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		switch {
		case w.ResourceType == "Parameters" && len(w.Parameter) > 0:
			return DecodeResources[T](w.Parameter[0].Resource, rt)
		case w.ResourceType == rt && rt != "":
			raws = []json.RawMessage{b}
		}
		for _, e := range w.Entry {
			raws = append(raws, e.Resource)
		}
	}
	out := make([]T, 0, len(raws))
	for i, r := range raws {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		_ = json.Unmarshal(r, &head)
		if rt != "" && head.ResourceType != rt {
			return nil, fmt.Errorf("entry %d is a %q, not a %s", i+1, head.ResourceType, rt)
		}
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return out, fmt.Errorf("entry %d: %w", i+1, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// submitBody wraps a Bundle the way $submit wants it.
func submitBody[T any](resources []T) any {
	entries := make([]map[string]any, len(resources))
	for i, r := range resources {
		entries[i] = map[string]any{"resource": r}
	}
	return map[string]any{
		"resourceType": "Parameters",
		"parameter": []any{map[string]any{
			"name": "resource",
			"resource": map[string]any{
				"resourceType": "Bundle",
				"type":         "collection",
				"entry":        entries,
			},
		}},
	}
}

// Provenance is the attestation DPC requires (X-Provenance header) whenever patients are
// attributed to a practitioner: the organization attests a treatment relationship on behalf
// of the practitioner.
type Provenance struct {
	OrganizationID string
	PractitionerID string
	Recorded       time.Time
}

// Header renders the Provenance as the single-line JSON the X-Provenance header carries.
func (p Provenance) Header() string {
	v := map[string]any{
		"resourceType": "Provenance",
		"meta":         map[string]any{"profile": []string{ProfileAttestation}},
		"recorded":     p.Recorded.Format("2006-01-02T15:04:05.000Z07:00"),
		"reason":       []Coding{{System: "http://hl7.org/fhir/v3/ActReason", Code: "TREAT"}},
		"agent": []any{map[string]any{
			"role":                []CodeableConcept{{Coding: []Coding{{System: "http://hl7.org/fhir/v3/RoleClass", Code: "AGNT"}}}},
			"whoReference":        Reference{Reference: "Organization/" + p.OrganizationID},
			"onBehalfOfReference": Reference{Reference: "Practitioner/" + p.PractitionerID},
		}},
	}
	b, _ := json.Marshal(v) // only strings and fixed shapes: cannot fail
	return string(b)
}
