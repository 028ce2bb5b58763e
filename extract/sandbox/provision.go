// Package sandbox provisions a DPC sandbox (extract/dpctest) the way a new DPC user does, and
// starts the embedded one `dpcetl run --sandbox` exports from. Production code never imports it.
package sandbox

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpc"
	"github.com/dpcetl/dpcetl/extract/dpctest/synth"
	"github.com/dpcetl/dpcetl/extract/roster"
)

// Options shape what Provision creates. Zero values give the defaults.
type Options struct {
	OrgName       string          // default "dpcetl sandbox organization"
	OrgNPI        string          // default: a synthetic NPI
	KeyBits       int             // RSA size of the generated key (default 4096; the sandbox's WithMinKeyBits may allow less)
	Key           *rsa.PrivateKey // use this key instead of generating one (tests share one to save time)
	Practitioners int             // default 2, or more so that no group passes DPC's 1350-patient roster limit; NPIs are synth NPI(0..n-1)
	Patients      int             // default 10; MBIs are synth MBI(0..n-1), spread round-robin over the practitioners
	Seed          int64           // synth seed for NPIs, MBIs and patient identities (default 1, as the sandbox)
	HTTPClient    *http.Client    // base client (default: a fresh one with a 30s timeout)
	Now           func() time.Time
}

// Sandbox is what Provision made: everything a test or `make demo` needs to export.
type Sandbox struct {
	RootURL         string
	OrgID           string
	OrgNPI          string
	KeyID           string
	ClientTokenID   string
	Credentials     auth.Credentials // BaseURL is RootURL + "/api/v1"
	PrivateKeyPEM   []byte           // PKCS#8 PEM of Credentials.PrivateKey
	NPIs            []string         // practitioner NPIs, in creation order
	MBIs            []string         // patient MBIs, in creation order
	GroupIDs        []string         // one attribution group per practitioner, same order as NPIs
	GroupByNPI      map[string]string
	PractitionerIDs map[string]string // NPI → Practitioner id
	PatientIDs      map[string]string // MBI → Patient id

	now  func() time.Time
	base http.RoundTripper
}

// Client returns an API client authenticated with the sandbox's credentials. Its token source
// and attestations read the clock given as Options.Now, so a test that moves the sandbox
// clock can pass the same clock here.
func (s *Sandbox) Client(opts ...dpc.Option) *dpc.Client {
	now := s.now
	if now == nil {
		now = time.Now
	}
	ts := auth.NewTokenSource(s.Credentials, auth.WithClock(now))
	opts = append([]dpc.Option{dpc.WithNow(now), dpc.WithSyntheticMBIs()}, opts...)
	return dpc.New(s.Credentials.BaseURL, &http.Client{Transport: ts.Transport(s.base), Timeout: 60 * time.Second}, opts...)
}

// Provision does, against a dpctest sandbox at rootURL, what a new DPC user does by hand:
// creates an organization in the portal, uploads a public key and gets a client token there, then
// with a real access token registers practitioners and patients and attests one attribution group
// per practitioner. Registration uses $submit so that it costs a handful of requests.
func Provision(ctx context.Context, rootURL string, opts Options) (*Sandbox, error) {
	rootURL = strings.TrimSuffix(strings.TrimRight(rootURL, "/"), "/api/v1")
	if opts.OrgName == "" {
		opts.OrgName = "dpcetl sandbox organization"
	}
	if opts.Practitioners <= 0 {
		opts.Practitioners = max(2, (opts.Patients+roster.DefaultRosterLimit-1)/roster.DefaultRosterLimit)
	}
	if opts.Patients < 0 {
		return nil, fmt.Errorf("sandbox: negative patient count: %w", dpc.ErrInvalid)
	}
	if opts.Patients == 0 {
		opts.Patients = 10
	}
	if opts.Patients < opts.Practitioners {
		return nil, fmt.Errorf("sandbox: %d patients cannot fill %d groups (a group needs a member): %w", opts.Patients, opts.Practitioners, dpc.ErrInvalid)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	gen := synth.New(synth.Options{Seed: opts.Seed})
	if opts.OrgNPI == "" {
		opts.OrgNPI = gen.NPI(1_000_000) // far from the practitioners' indexes
	}

	key := opts.Key
	if key == nil {
		var err error
		if key, err = dpc.GenerateKey(opts.KeyBits); err != nil {
			return nil, fmt.Errorf("sandbox: generate key: %w", err)
		}
	}
	keyPEM, err := dpc.PrivateKeyPEM(key)
	if err != nil {
		return nil, fmt.Errorf("sandbox: encode key: %w", err)
	}
	up, err := dpc.NewKeyUpload(key)
	if err != nil {
		return nil, fmt.Errorf("sandbox: sign snippet: %w", err)
	}

	portal := dpc.NewPortal(rootURL, opts.HTTPClient)
	org, err := portal.CreateOrganization(ctx, opts.OrgName, opts.OrgNPI)
	if err != nil {
		return nil, fmt.Errorf("sandbox: create organization: %w", err)
	}
	k, err := portal.UploadKey(ctx, org.ID, "dpcetl-sandbox", up)
	if err != nil {
		return nil, fmt.Errorf("sandbox: upload key: %w", err)
	}
	tok, err := portal.CreateToken(ctx, org.ID, "dpcetl sandbox", time.Time{})
	if err != nil {
		return nil, fmt.Errorf("sandbox: create client token: %w", err)
	}
	if tok.Token == "" {
		return nil, errors.New("sandbox: portal returned a client token record without the token")
	}
	sb := &Sandbox{
		RootURL: rootURL, OrgID: org.ID, OrgNPI: org.NPI, KeyID: k.ID, ClientTokenID: tok.ID,
		Credentials:     auth.Credentials{BaseURL: rootURL + "/api/v1", ClientToken: tok.Token, KeyID: k.ID, PrivateKey: key},
		PrivateKeyPEM:   keyPEM,
		GroupByNPI:      map[string]string{},
		PractitionerIDs: map[string]string{},
		PatientIDs:      map[string]string{},
		now:             opts.Now,
		base:            opts.HTTPClient.Transport,
	}
	ts := auth.NewTokenSource(sb.Credentials, auth.WithClock(opts.Now))
	c := dpc.New(sb.Credentials.BaseURL, &http.Client{Transport: ts.Transport(opts.HTTPClient.Transport), Timeout: opts.HTTPClient.Timeout},
		dpc.WithNow(opts.Now), dpc.WithSyntheticMBIs())

	practs := make([]dpc.Practitioner, opts.Practitioners)
	for i := range practs {
		npi := gen.NPI(i)
		sb.NPIs = append(sb.NPIs, npi)
		practs[i] = dpc.NewPractitioner(npi, fmt.Sprintf("Practitioner%d", i+1), "Sandbox")
	}
	created, err := c.SubmitPractitioners(ctx, practs)
	if err != nil {
		return nil, fmt.Errorf("sandbox: register practitioners: %w", err)
	}
	for _, p := range created {
		sb.PractitionerIDs[p.NPI()] = p.ID
	}

	pats := make([]dpc.Patient, opts.Patients)
	for i := range pats {
		mbi := gen.MBI(i)
		b := gen.Beneficiary(mbi)
		sb.MBIs = append(sb.MBIs, mbi)
		pats[i] = dpc.NewPatient(mbi, b.Given, b.Family, b.BirthDate, b.Gender, org.ID)
	}
	// Submit in chunks so a large sandbox does not build one enormous request.
	for lo := 0; lo < len(pats); lo += 1000 {
		hi := min(lo+1000, len(pats))
		got, err := c.SubmitPatients(ctx, pats[lo:hi])
		if err != nil {
			return nil, fmt.Errorf("sandbox: register patients: %w", err)
		}
		for _, p := range got {
			sb.PatientIDs[p.MBI()] = p.ID
		}
	}

	for i, npi := range sb.NPIs {
		pid := sb.PractitionerIDs[npi]
		if pid == "" {
			return nil, fmt.Errorf("sandbox: practitioner %s missing from the $submit answer", npi)
		}
		var members []string
		for j := i; j < len(sb.MBIs); j += len(sb.NPIs) {
			id := sb.PatientIDs[sb.MBIs[j]]
			if id == "" {
				return nil, fmt.Errorf("sandbox: patient %s missing from the $submit answer", sb.MBIs[j])
			}
			members = append(members, id)
		}
		g, err := c.CreateGroup(ctx, npi, members, c.Attestation(org.ID, pid))
		if err != nil {
			return nil, fmt.Errorf("sandbox: create group for %s: %w", npi, err)
		}
		sb.GroupIDs = append(sb.GroupIDs, g.ID)
		sb.GroupByNPI[npi] = g.ID
	}
	return sb, nil
}
