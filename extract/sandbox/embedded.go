package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
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
}

// Embedded is a sandbox server running in this process, provisioned as a new user would be.
// Its Credentials and GroupIDs are what runner.Options takes.
type Embedded struct {
	Server *dpctest.Server
	*Sandbox
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
	sopts := append([]dpctest.Option{dpctest.WithMinKeyBits(2048), dpctest.WithJobDuration(500 * time.Millisecond)}, o.Server...)
	srv, err := dpctest.Listen(o.Addr, sopts...)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %v", ErrListen, o.Addr, err)
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
	return &Embedded{Server: srv, Sandbox: sb, Seconds: time.Since(start).Seconds()}, nil
}

// Close stops the server; its jobs and files are gone with it.
func (e *Embedded) Close() { e.Server.Close() }
