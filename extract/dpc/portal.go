package dpc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Portal is the stand-in for the DPC web portal that the sandbox (extract/dpctest) serves at
// {root}/portal: where a user creates the organization and gets the FIRST client token and key
// in, before any API credentials exist. Its endpoints are unauthenticated.
type Portal struct{ c *Client }

// NewPortal returns a portal client for the sandbox root URL (no /api/v1). Given an API base
// URL ending in /api/v1, it strips that suffix.
func NewPortal(rootURL string, httpClient *http.Client) *Portal {
	rootURL = strings.TrimSuffix(strings.TrimRight(rootURL, "/"), "/api/v1")
	return &Portal{c: New(rootURL+"/portal", httpClient)}
}

// PortalOrganization is the portal's record of an organization.
type PortalOrganization struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	NPI  string `json:"npi"`
}

// CreateOrganization registers an organization (npi may be empty).
func (p *Portal) CreateOrganization(ctx context.Context, name, npi string) (PortalOrganization, error) {
	if npi != "" {
		if err := ValidateNPI(npi); err != nil {
			return PortalOrganization{}, err
		}
	}
	var out PortalOrganization
	err := p.c.do(ctx, request{method: http.MethodPost, path: "/Organization",
		body: map[string]string{"name": name, "npi": npi}, ctype: "application/json", accept: "application/json"}, &out)
	return out, err
}

// CreateToken makes a client token for orgID; a zero expiration leaves the default.
func (p *Portal) CreateToken(ctx context.Context, orgID, label string, expiration time.Time) (Token, error) {
	return p.c.createToken(ctx, "/Organization/"+url.PathEscape(orgID)+"/Token", label, expiration)
}

// UploadKey registers a public key for orgID (a PKCS#1 PEM is sent as PKIX, see Client.UploadKey).
func (p *Portal) UploadKey(ctx context.Context, orgID, label string, up KeyUpload) (Key, error) {
	return p.c.uploadKey(ctx, "/Organization/"+url.PathEscape(orgID)+"/Key", label, up)
}
