package sandbox

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/smartauth"
)

// DemoPatients is how many patients the embedded sandbox gets by default.
const DemoPatients = 200

// ErrListen means the embedded sandbox could not listen on the address it was given.
var ErrListen = errors.New("cannot start the embedded DPC sandbox")

// EmbeddedOptions shape an embedded sandbox. Zero values give the demo defaults.
type EmbeddedOptions struct {
	// Addr to listen on (default 127.0.0.1:0, a random port).
	Addr string
	// Server options, applied after the defaults (2048-bit keys, 500 ms jobs).
	Server []dpctest.Option
	// Provision shapes the organization (default: a 2048-bit key, DemoPatients patients).
	Provision Options
	// Transport is the base HTTP transport used to provision (default http.DefaultTransport).
	Transport http.RoundTripper
	// Dialect other than DPC makes the sandbox speak BCDA, AB2D or SMART with a registered
	// client (OAuth) instead of provisioning a DPC organization.
	Dialect dpctest.Dialect
}

// Embedded is a sandbox server running in this process, provisioned as a new user would be.
// Its Credentials and GroupIDs are what runner.Options takes.
type Embedded struct {
	Server   *dpctest.Server
	*Sandbox // DPC only
	// OAuth is the dialect's client (nil for DPC) and Groups the group ids it exports:
	// BCDA's "all", AB2D's contract, SMART's "practice-N" (FHIR ids, not UUIDs).
	OAuth    *smartauth.Config
	Groups   []string
	Patients int
	// Seconds is how long starting and provisioning took (the summary's "provision" stage).
	Seconds float64
}

// Start listens, provisions an organization with practitioners, patients and one attribution
// group per practitioner, and returns it running. Close stops it.
func Start(ctx context.Context, o EmbeddedOptions) (*Embedded, error) {
	start := time.Now()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	sopts := []dpctest.Option{dpctest.WithMinKeyBits(2048), dpctest.WithJobDuration(500 * time.Millisecond)}
	if o.Dialect != dpctest.DialectDPC {
		sopts = append(sopts, dpctest.WithDialect(o.Dialect), dpctest.WithPatients(cmp.Or(o.Provision.Patients, DemoPatients)))
	}
	srv, err := dpctest.Listen(o.Addr, append(sopts, o.Server...)...)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %v", ErrListen, o.Addr, err)
	}
	if o.Dialect != dpctest.DialectDPC {
		sc, err := DialectClient(srv, o.Dialect)
		if err != nil {
			srv.Close()
			return nil, err
		}
		groups := srv.DialectGroups()
		if o.Dialect == dpctest.DialectBCDA {
			groups = groups[:1] // "runout" is the same roster again
		}
		return &Embedded{Server: srv, OAuth: &sc, Groups: groups, Patients: srv.Seeded().Patients, Seconds: time.Since(start).Seconds()}, nil
	}
	po := o.Provision
	if po.KeyBits == 0 && po.Key == nil {
		po.KeyBits = 2048
	}
	if po.Patients == 0 {
		po.Patients = DemoPatients
	}
	if po.HTTPClient == nil {
		if o.Transport == nil {
			o.Transport = http.DefaultTransport
		}
		po.HTTPClient = &http.Client{Transport: o.Transport, Timeout: time.Minute}
	}
	sb, err := Provision(ctx, srv.URL, po)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("provision the embedded sandbox: %w", err)
	}
	return &Embedded{Server: srv, Sandbox: sb, Groups: sb.GroupIDs, Patients: len(sb.MBIs), Seconds: time.Since(start).Seconds()}, nil
}

// DialectClient registers a client with a sandbox speaking BCDA or AB2D (a client id and
// secret) or SMART (a new RSA key under kid "sandbox-key-1") and returns its smartauth config.
func DialectClient(srv *dpctest.Server, d dpctest.Dialect) (smartauth.Config, error) {
	switch d {
	case dpctest.DialectBCDA, dpctest.DialectAB2D:
		id, secret := srv.NewSecretClient()
		if d == dpctest.DialectBCDA {
			return smartauth.BCDA(srv.DialectBaseURL(), id, secret), nil
		}
		return smartauth.AB2D(srv.DialectBaseURL(), srv.DialectTokenURL(), id, secret), nil
	case dpctest.DialectSMART:
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return smartauth.Config{}, fmt.Errorf("sandbox: generate key: %w", err)
		}
		const kid = "sandbox-key-1"
		jwks, err := smartauth.PublicJWKS(key, kid)
		if err != nil {
			return smartauth.Config{}, err
		}
		id, err := srv.RegisterJWKS(jwks)
		if err != nil {
			return smartauth.Config{}, fmt.Errorf("sandbox: register the SMART client: %w", err)
		}
		return smartauth.SMART(srv.DialectBaseURL(), id, kid, key), nil
	}
	return smartauth.Config{}, fmt.Errorf("sandbox: dialect %s has no OAuth client", d)
}

// Close stops the server; its jobs and files are gone with it.
func (e *Embedded) Close() { e.Server.Close() }
