package dpctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Seeded describes the organization created by WithSeedOrganization/WithPatients.
type Seeded struct {
	OrgID  string
	OrgNPI string
	// Groups lists the attribution groups, one per practitioner, in creation order.
	Groups []SeededGroup
	// Patients is the number of patients registered.
	Patients int
}

// SeededGroup is one seeded practitioner and its attribution group.
type SeededGroup struct {
	GroupID        string
	PractitionerID string
	NPI            string
	Patients       int
}

// Seeded returns the seeded organization, or nil when none was asked for.
func (s *Server) Seeded() *Seeded {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seeded == nil {
		return nil
	}
	cp := *s.seeded
	cp.Groups = append([]SeededGroup(nil), s.seeded.Groups...)
	return &cp
}

func (s *Server) seed(so SeedOrganization) error {
	if so.Patients < 0 || so.Practitioners < 0 {
		return errors.New("negative patients or practitioners")
	}
	np := so.Practitioners
	if np == 0 {
		// Groups of at most 5000 patients, and within the roster limit.
		per := 5000
		if l := s.cfg.rosterLimit; l > 0 {
			per = min(per, l)
		}
		np = min(100, max(1, (so.Patients+per-1)/per))
	}
	if so.Name == "" {
		so.Name = "Sandbox Organization"
	}
	if so.NPI == "" {
		so.NPI = s.gen.NPI(np) // the first NPI after the practitioners'
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := newOrg(newUUID(), so.Name, so.NPI, now)
	s.orgs[o.id] = o
	groups := make([]*group, np)
	sd := &Seeded{OrgID: o.id, OrgNPI: o.npi, Patients: so.Patients}
	for i := range np {
		b := s.gen.Beneficiary(s.gen.MBI(1_000_000_000 + i)) // a name source only
		p, _ := o.addPractitionerLocked(&practitioner{npi: s.gen.NPI(i), family: b.Family, given: b.Given}, now)
		g := &group{id: newUUID(), npi: p.npi, practitionerID: p.id, memberIdx: map[string]int{}, updated: now}
		groups[i] = g
		o.groups = append(o.groups, g)
		o.groupByID[g.id] = g
		o.groupByNPI[g.npi] = g
	}
	for i := range so.Patients {
		mbi := s.gen.MBI(i)
		b := s.gen.Beneficiary(mbi)
		p, _ := o.addPatientLocked(&patient{mbi: mbi, family: b.Family, given: b.Given, birthDate: b.BirthDate, gender: b.Gender}, now)
		groups[i%np].attribute([]string{p.id}, now)
	}
	for _, g := range groups {
		sd.Groups = append(sd.Groups, SeededGroup{GroupID: g.id, PractitionerID: g.practitionerID, NPI: g.npi, Patients: len(g.members)})
	}
	s.seeded = sd
	return nil
}

// Credentials is what a DPC client needs: a client token, a registered key id
// and the matching private key.
type Credentials struct {
	BaseURL       string
	OrgID         string
	ClientToken   string
	KeyID         string
	PrivateKey    *rsa.PrivateKey
	PrivateKeyPEM []byte // PKCS#8 PEM
}

// NewCredentials registers a fresh RSA key of bits bits (at least the server's
// minimum key size) and a client token for organization orgID directly in the
// store, the shortcut the portal would take. Use it when a test is not about
// key upload; the portal endpoints cover the real flow.
func (s *Server) NewCredentials(orgID string, bits int) (Credentials, error) {
	if bits < s.cfg.minKeyBits {
		return Credentials{}, fmt.Errorf("key size %d below the server minimum %d", bits, s.cfg.minKeyBits)
	}
	pk, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return Credentials{}, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		return Credentials{}, fmt.Errorf("marshal key: %w", err)
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[orgID]
	if !ok {
		return Credentials{}, fmt.Errorf("no organization %s", orgID)
	}
	k := &publicKey{id: newUUID(), label: "sandbox", orgID: o.id, key: &pk.PublicKey, created: now,
		pem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(&pk.PublicKey)}))}
	o.keys[k.id] = k
	o.keyOrder = append(o.keyOrder, k.id)
	t := &clientToken{id: newUUID(), label: "Token for organization " + o.id + ".", created: now, expires: now.Add(s.cfg.clientTokenMax)}
	o.tokens[t.id] = t
	o.tokenOrder = append(o.tokenOrder, t.id)
	return Credentials{
		BaseURL:       s.BaseURL(),
		OrgID:         o.id,
		ClientToken:   mintClientToken(s.secret, s.BaseURL(), t.id, o.id, t.expires),
		KeyID:         k.id,
		PrivateKey:    pk,
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
	}, nil
}
