package dpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// CreatePractitioner registers one practitioner and returns it as stored (with its id).
func (c *Client) CreatePractitioner(ctx context.Context, p Practitioner) (Practitioner, error) {
	if err := ValidateNPI(p.NPI()); err != nil {
		return Practitioner{}, err
	}
	var out Practitioner
	err := c.do(ctx, request{method: http.MethodPost, path: "/Practitioner", body: p}, &out)
	return out, err
}

// SubmitPractitioners registers many practitioners in one $submit call.
func (c *Client) SubmitPractitioners(ctx context.Context, ps []Practitioner) ([]Practitioner, error) {
	for i, p := range ps {
		if err := ValidateNPI(p.NPI()); err != nil {
			return nil, fmt.Errorf("practitioner %d: %w", i+1, err)
		}
	}
	return submit[Practitioner](ctx, c, "/Practitioner/$submit", ps)
}

// Practitioners lists every practitioner of the organization, following pages.
func (c *Client) Practitioners(ctx context.Context) ([]Practitioner, error) {
	return searchAll[Practitioner](ctx, c, "/Practitioner", c.pageQuery(nil))
}

// Practitioner fetches one practitioner by resource id.
func (c *Client) Practitioner(ctx context.Context, id string) (Practitioner, error) {
	var out Practitioner
	err := c.do(ctx, request{method: http.MethodGet, path: "/Practitioner/" + url.PathEscape(id)}, &out)
	return out, err
}

// PractitionerByNPI finds the practitioner with the given NPI; ErrNotFound if there is none.
func (c *Client) PractitionerByNPI(ctx context.Context, npi string) (Practitioner, error) {
	if err := ValidateNPI(npi); err != nil {
		return Practitioner{}, err
	}
	ps, err := searchAll[Practitioner](ctx, c, "/Practitioner", url.Values{"identifier": {npi}})
	if err != nil {
		return Practitioner{}, err
	}
	for _, p := range ps {
		if p.NPI() == npi {
			return p, nil
		}
	}
	return Practitioner{}, fmt.Errorf("dpc: practitioner with NPI %s: %w", npi, ErrNotFound)
}

// CreatePatient registers one patient and returns it as stored.
func (c *Client) CreatePatient(ctx context.Context, p Patient) (Patient, error) {
	if err := c.validateMBI(p.MBI()); err != nil {
		return Patient{}, err
	}
	var out Patient
	err := c.do(ctx, request{method: http.MethodPost, path: "/Patient", body: p}, &out)
	return out, err
}

// SubmitPatients registers many patients in one $submit call.
func (c *Client) SubmitPatients(ctx context.Context, ps []Patient) ([]Patient, error) {
	for i, p := range ps {
		if err := c.validateMBI(p.MBI()); err != nil {
			return nil, fmt.Errorf("patient %d: %w", i+1, err)
		}
	}
	return submit[Patient](ctx, c, "/Patient/$submit", ps)
}

// Patients lists every patient of the organization, following _count/_offset pages.
func (c *Client) Patients(ctx context.Context) ([]Patient, error) {
	return searchAll[Patient](ctx, c, "/Patient", c.pageQuery(nil))
}

// Patient fetches one patient by resource id.
func (c *Client) Patient(ctx context.Context, id string) (Patient, error) {
	var out Patient
	err := c.do(ctx, request{method: http.MethodGet, path: "/Patient/" + url.PathEscape(id)}, &out)
	return out, err
}

// PatientByMBI finds the patient with the given MBI; ErrNotFound if there is none.
func (c *Client) PatientByMBI(ctx context.Context, mbi string) (Patient, error) {
	if err := c.validateMBI(mbi); err != nil {
		return Patient{}, err
	}
	ps, err := searchAll[Patient](ctx, c, "/Patient", url.Values{"identifier": {mbi}})
	if err != nil {
		return Patient{}, err
	}
	for _, p := range ps {
		if p.MBI() == mbi {
			return p, nil
		}
	}
	return Patient{}, fmt.Errorf("dpc: patient with MBI %s: %w", mbi, ErrNotFound)
}

// submit posts a Parameters-wrapped Bundle and reads back the created resources, whether the
// server answers with a Bundle or with Parameters wrapping one.
func submit[T any](ctx context.Context, c *Client, path string, rs []T) ([]T, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	var raw json.RawMessage
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: submitBody(rs)}, &raw); err != nil {
		return nil, err
	}
	b, err := unwrapBundle(raw)
	if err != nil {
		return nil, fmt.Errorf("dpc: POST %s: %w", path, err)
	}
	out := make([]T, 0, len(b.Entry))
	for _, e := range b.Entry {
		var v T
		if err := json.Unmarshal(e.Resource, &v); err != nil {
			return out, fmt.Errorf("dpc: POST %s: decode entry: %w", path, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func unwrapBundle(raw json.RawMessage) (bundle, error) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if len(raw) == 0 {
		return bundle{}, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return bundle{}, err
	}
	if p.ResourceType == "Parameters" && len(p.Parameter) > 0 {
		raw = p.Parameter[0].Resource
	}
	var b bundle
	err := json.Unmarshal(raw, &b)
	return b, err
}

// Attestation builds the Provenance for attributing patients to the practitioner with id
// practitionerID on behalf of orgID, recorded now.
func (c *Client) Attestation(orgID, practitionerID string) Provenance {
	return Provenance{OrganizationID: orgID, PractitionerID: practitionerID, Recorded: c.now().UTC()}
}

// AttestationFor looks up the organization and the practitioner with npi and builds their
// attestation; it returns the practitioner too since callers usually need it.
func (c *Client) AttestationFor(ctx context.Context, npi string) (Provenance, Practitioner, error) {
	if err := ValidateNPI(npi); err != nil {
		return Provenance{}, Practitioner{}, err
	}
	org, err := c.Organization(ctx)
	if err != nil {
		return Provenance{}, Practitioner{}, err
	}
	p, err := c.PractitionerByNPI(ctx, npi)
	if err != nil {
		return Provenance{}, Practitioner{}, err
	}
	return c.Attestation(org.ID, p.ID), p, nil
}

func provenanceHeader(p Provenance) http.Header {
	return http.Header{"X-Provenance": {p.Header()}}
}

// CreateGroup creates the attribution group for npi with the given patient ids, attested by att.
func (c *Client) CreateGroup(ctx context.Context, npi string, patientIDs []string, att Provenance) (Group, error) {
	if err := ValidateNPI(npi); err != nil {
		return Group{}, err
	}
	var out Group
	err := c.do(ctx, request{method: http.MethodPost, path: "/Group", body: NewGroup(npi, patientIDs), header: provenanceHeader(att)}, &out)
	return out, err
}

// ReplaceGroup overwrites the membership of group id with exactly patientIDs (PUT), attested by
// att; every listed attribution restarts its 90 days.
func (c *Client) ReplaceGroup(ctx context.Context, id, npi string, patientIDs []string, att Provenance) (Group, error) {
	if err := ValidateNPI(npi); err != nil {
		return Group{}, err
	}
	g := NewGroup(npi, patientIDs)
	g.ID = id
	var out Group
	err := c.do(ctx, request{method: http.MethodPut, path: "/Group/" + url.PathEscape(id), body: g, header: provenanceHeader(att)}, &out)
	return out, err
}

// AddMembers attributes patientIDs to group id ($add), attested by att. Adding a patient who is
// already a member renews the attribution.
func (c *Client) AddMembers(ctx context.Context, id, npi string, patientIDs []string, att Provenance) (Group, error) {
	var out Group
	err := c.do(ctx, request{method: http.MethodPost, path: "/Group/" + url.PathEscape(id) + "/$add",
		body: NewGroup(npi, patientIDs), header: provenanceHeader(att)}, &out)
	return out, err
}

// RemoveMembers ends the attribution of patientIDs in group id ($remove).
func (c *Client) RemoveMembers(ctx context.Context, id, npi string, patientIDs []string) (Group, error) {
	var out Group
	err := c.do(ctx, request{method: http.MethodPost, path: "/Group/" + url.PathEscape(id) + "/$remove",
		body: NewGroup(npi, patientIDs)}, &out)
	return out, err
}

// Group fetches one group by id.
func (c *Client) Group(ctx context.Context, id string) (Group, error) {
	var out Group
	err := c.do(ctx, request{method: http.MethodGet, path: "/Group/" + url.PathEscape(id)}, &out)
	return out, err
}

// FindGroupsByNPI returns the attribution groups of the practitioner with npi.
func (c *Client) FindGroupsByNPI(ctx context.Context, npi string) ([]Group, error) {
	if err := ValidateNPI(npi); err != nil {
		return nil, err
	}
	gs, err := searchAll[Group](ctx, c, "/Group", url.Values{"characteristic-value": {"attributed-to$" + npi}})
	if err != nil {
		return nil, err
	}
	// Keep only exact matches in case a server treats the search loosely.
	out := gs[:0]
	for _, g := range gs {
		if g.NPI() == npi || g.NPI() == "" {
			out = append(out, g)
		}
	}
	return out, nil
}

// AllGroups returns every attribution group of the organization.
func (c *Client) AllGroups(ctx context.Context) ([]Group, error) {
	return searchAll[Group](ctx, c, "/Group", nil)
}
