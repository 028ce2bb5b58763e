package dpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CreatePractitioner registers one practitioner and returns it as stored (with its id).
func (c *Client) CreatePractitioner(ctx context.Context, p Practitioner) (Practitioner, error) {
	return create(ctx, c, "/Practitioner", checkNPI, p)
}

// SubmitPractitioners registers many practitioners in one $submit call.
func (c *Client) SubmitPractitioners(ctx context.Context, ps []Practitioner) ([]Practitioner, error) {
	return submit(ctx, c, "/Practitioner/$submit", "practitioner", checkNPI, ps)
}

func checkNPI(p Practitioner) error { return ValidateNPI(p.NPI()) }

// Practitioners lists every practitioner of the organization, following pages.
func (c *Client) Practitioners(ctx context.Context) ([]Practitioner, error) {
	return searchAll[Practitioner](ctx, c, "/Practitioner", c.pageQuery())
}

// Practitioner fetches one practitioner by resource id.
func (c *Client) Practitioner(ctx context.Context, id string) (Practitioner, error) {
	return get[Practitioner](ctx, c, "/Practitioner/"+url.PathEscape(id), "")
}

// PractitionerByNPI finds the practitioner with the given NPI; ErrNotFound if there is none.
func (c *Client) PractitionerByNPI(ctx context.Context, npi string) (Practitioner, error) {
	if err := ValidateNPI(npi); err != nil {
		return Practitioner{}, err
	}
	return findOne(ctx, c, "/Practitioner", npi, Practitioner.NPI)
}

// CreatePatient registers one patient and returns it as stored.
func (c *Client) CreatePatient(ctx context.Context, p Patient) (Patient, error) {
	return create(ctx, c, "/Patient", c.checkMBI, p)
}

// SubmitPatients registers many patients in one $submit call.
func (c *Client) SubmitPatients(ctx context.Context, ps []Patient) ([]Patient, error) {
	return submit(ctx, c, "/Patient/$submit", "patient", c.checkMBI, ps)
}

func (c *Client) checkMBI(p Patient) error { return c.validateMBI(p.MBI()) }

// Patients lists every patient of the organization, following _count/_offset pages.
func (c *Client) Patients(ctx context.Context) ([]Patient, error) {
	return searchAll[Patient](ctx, c, "/Patient", c.pageQuery())
}

// Patient fetches one patient by resource id.
func (c *Client) Patient(ctx context.Context, id string) (Patient, error) {
	return get[Patient](ctx, c, "/Patient/"+url.PathEscape(id), "")
}

// PatientByMBI finds the patient with the given MBI; ErrNotFound if there is none.
func (c *Client) PatientByMBI(ctx context.Context, mbi string) (Patient, error) {
	if err := c.validateMBI(mbi); err != nil {
		return Patient{}, err
	}
	return findOne(ctx, c, "/Patient", mbi, Patient.MBI)
}

// create checks one resource and posts it to path.
func create[T any](ctx context.Context, c *Client, path string, check func(T) error, v T) (T, error) {
	var out T
	if err := check(v); err != nil {
		return out, err
	}
	err := c.do(ctx, request{method: http.MethodPost, path: path, body: v}, &out)
	return out, err
}

// submit checks every resource (errors name the noun and its 1-based place), posts them as a
// Parameters-wrapped Bundle and reads back the created resources, whether the server answers
// with a Bundle or with Parameters wrapping one.
func submit[T any](ctx context.Context, c *Client, path, noun string, check func(T) error, rs []T) ([]T, error) {
	for i, r := range rs {
		if err := check(r); err != nil {
			return nil, fmt.Errorf("%s %d: %w", noun, i+1, err)
		}
	}
	if len(rs) == 0 {
		return nil, nil
	}
	var raw json.RawMessage
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: submitBody(rs)}, &raw); err != nil {
		return nil, err
	}
	out, err := DecodeResources[T](raw, "")
	if err != nil {
		return out, fmt.Errorf("dpc: POST %s: %w", path, err)
	}
	return out, nil
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

// CreateGroup creates the attribution group for npi with the given patient ids, attested by
// att. It is idempotent: DPC allows one group per practitioner and answers a second POST
// with 403, so when npi already has a group CreateGroup attributes patientIDs to it ($add)
// and returns it.
func (c *Client) CreateGroup(ctx context.Context, npi string, patientIDs []string, att Provenance) (Group, error) {
	g, _, err := c.EnsureGroup(ctx, npi, patientIDs, att)
	return g, err
}

// EnsureGroup is CreateGroup that also says whether the group already existed.
func (c *Client) EnsureGroup(ctx context.Context, npi string, patientIDs []string, att Provenance) (g Group, existed bool, err error) {
	if err := ValidateNPI(npi); err != nil {
		return Group{}, false, err
	}
	err = c.do(ctx, request{method: http.MethodPost, path: "/Group", body: NewGroup(npi, patientIDs), header: provenanceHeader(att)}, &g)
	var ae *APIError
	switch {
	case err == nil:
		return g, false, nil
	case errors.As(err, &ae) && ae.DuplicateGroup():
		existed = true
	default:
		return Group{}, false, err
	}
	gs, ferr := c.FindGroupsByNPI(ctx, npi)
	if ferr != nil {
		return Group{}, true, fmt.Errorf("dpc: group for NPI %s exists but cannot be found: %w", npi, ferr)
	}
	if len(gs) == 0 {
		return Group{}, true, fmt.Errorf("dpc: DPC says NPI %s already has a group, but the search finds none: %w", npi, ErrNotFound)
	}
	g = gs[0]
	if len(patientIDs) == 0 {
		return g, true, nil
	}
	out, err := c.AddMembers(ctx, g.ID, npi, patientIDs, att)
	return out, true, err
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
	return get[Group](ctx, c, "/Group/"+url.PathEscape(id), "")
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

// Everything fetches a patient's whole record synchronously (GET Patient/{id}/$everything,
// attested by att): the Patient, ExplanationOfBenefit and Coverage resources as raw JSON,
// in the server's order. since, when not zero, keeps resources updated after it. A patient
// DPC does not serve (opted out, or no claim by the organization in 18 months) is a 403
// whose error carries DPC's reason; it wraps ErrSuppressed, not an auth failure.
func (c *Client) Everything(ctx context.Context, patientID string, att Provenance, since time.Time) ([]json.RawMessage, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("_since", since.UTC().Format(time.RFC3339))
	}
	var b bundle
	err := c.do(ctx, request{method: http.MethodGet, path: "/Patient/" + url.PathEscape(patientID) + "/$everything", query: q, header: provenanceHeader(att)}, &b)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
		return nil, fmt.Errorf("dpc: patient %s: %s: %w", patientID, ae.Message, ErrSuppressed)
	}
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(b.Entry))
	for _, e := range b.Entry {
		out = append(out, e.Resource)
	}
	return out, nil
}

// ErrSuppressed marks a patient DPC serves only as an OperationOutcome (opted out, or
// failing the lookback).
var ErrSuppressed = errors.New("patient data suppressed")

// CapabilityStatement is the part of GET /metadata a client checks.
type CapabilityStatement struct {
	ResourceType string   `json:"resourceType"`
	FHIRVersion  string   `json:"fhirVersion"`
	Version      string   `json:"version"`
	Format       []string `json:"format"`
	Software     struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"software"`
}

// Metadata fetches the server's CapabilityStatement (GET /metadata, no token needed).
func (c *Client) Metadata(ctx context.Context) (CapabilityStatement, error) {
	var cs CapabilityStatement
	if err := c.do(ctx, request{method: http.MethodGet, path: "/metadata"}, &cs); err != nil {
		return cs, err
	}
	if cs.ResourceType != "CapabilityStatement" {
		return cs, fmt.Errorf("dpc: GET /metadata: got a %q, not a CapabilityStatement: %w", cs.ResourceType, ErrInvalid)
	}
	return cs, nil
}

// Version returns the server's build version (GET /version, text/plain, no token needed).
func (c *Client) Version(ctx context.Context) (string, error) {
	var raw rawText
	err := c.do(ctx, request{method: http.MethodGet, path: "/version", accept: "text/plain"}, &raw)
	return strings.TrimSpace(string(raw)), err
}

// rawText receives a non-JSON body from do, unparsed.
type rawText []byte
