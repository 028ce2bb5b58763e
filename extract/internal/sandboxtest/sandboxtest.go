// Package sandboxtest starts the DPC sandbox for extract's tests with a seeded
// organization and credentials, so each test is about one behaviour only.
package sandboxtest

import (
	"testing"

	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// KeyBits is the RSA key size used in tests: small, so keys generate fast.
const KeyBits = 1024

// Sandbox is a running sandbox with one seeded organization.
type Sandbox struct {
	Srv     *dpctest.Server
	Cred    auth.Credentials
	GroupID string
	OrgID   string
	PEM     []byte // the private key, PKCS#8 PEM
}

// Start starts a sandbox with patients patients in one group and returns it
// with credentials for the organization. It is closed when the test ends.
func Start(t testing.TB, patients int, opts ...dpctest.Option) *Sandbox {
	t.Helper()
	opts = append([]dpctest.Option{
		dpctest.WithMinKeyBits(KeyBits),
		dpctest.WithSeedOrganization(dpctest.SeedOrganization{Name: "Test Org", Patients: patients, Practitioners: 1}),
	}, opts...)
	srv := dpctest.NewServer(opts...)
	t.Cleanup(srv.Close)
	sd := srv.Seeded()
	if sd == nil || len(sd.Groups) == 0 {
		t.Fatal("sandbox seeded no group")
	}
	c, err := srv.NewCredentials(sd.OrgID, KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	return &Sandbox{
		Srv:     srv,
		Cred:    auth.Credentials{BaseURL: c.BaseURL, ClientToken: c.ClientToken, KeyID: c.KeyID, PrivateKey: c.PrivateKey},
		GroupID: sd.Groups[0].GroupID,
		OrgID:   sd.OrgID,
		PEM:     c.PrivateKeyPEM,
	}
}
