package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
	"github.com/dpcetl/dpcetl/extract/sandbox"
)

var testKey = sandboxtest.Key

func newSandbox(t *testing.T, opts ...dpctest.Option) (*dpctest.Server, *sandbox.Sandbox) {
	t.Helper()
	return sandboxtest.Provisioned(t, opts...)
}

func TestProvision(t *testing.T) {
	_, sb := newSandbox(t)
	if len(sb.NPIs) != 2 || len(sb.MBIs) != 6 || len(sb.GroupIDs) != 2 {
		t.Fatalf("got %d NPIs, %d MBIs, %d groups", len(sb.NPIs), len(sb.MBIs), len(sb.GroupIDs))
	}
	ctx := context.Background()
	c := sb.Client()
	org, err := c.Organization(ctx)
	if err != nil || org.ID != sb.OrgID {
		t.Fatalf("Organization = %+v, %v; want id %s", org, err, sb.OrgID)
	}
	for i, npi := range sb.NPIs {
		gs, err := c.FindGroupsByNPI(ctx, npi)
		if err != nil || len(gs) != 1 || gs[0].ID != sb.GroupIDs[i] {
			t.Fatalf("FindGroupsByNPI(%s) = %+v, %v", npi, gs, err)
		}
		if n := len(gs[0].Member); n != 3 {
			t.Errorf("group %s has %d members, want 3", npi, n)
		}
		for _, m := range gs[0].Member {
			if !m.Active(time.Now()) || m.Period == nil {
				t.Errorf("member %+v not active with a period", m)
			}
		}
	}
	pats, err := c.Patients(ctx)
	if err != nil || len(pats) != 6 {
		t.Fatalf("Patients = %d, %v", len(pats), err)
	}
}

func TestProvisionDefaultKeySizeRefusedBelowMinimum(t *testing.T) {
	srv := dpctest.NewServer(dpctest.WithMinKeyBits(2048))
	defer srv.Close()
	_, err := sandbox.Provision(context.Background(), srv.URL, sandbox.Options{Key: testKey()})
	if err == nil {
		t.Fatal("a 1024-bit key was accepted by a server requiring 2048")
	}
}

func TestStartEmbedded(t *testing.T) {
	e, err := sandbox.Start(context.Background(), sandbox.EmbeddedOptions{
		Server:    []dpctest.Option{dpctest.WithMinKeyBits(1024)},
		Provision: sandbox.Options{Key: testKey(), Practitioners: 3, Patients: 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if len(e.GroupIDs) != 3 || e.Credentials.ClientToken == "" || e.Credentials.BaseURL != e.Server.BaseURL() {
		t.Fatalf("groups %v, base %q (server %q)", e.GroupIDs, e.Credentials.BaseURL, e.Server.BaseURL())
	}
	gs, err := e.Client().AllGroups(context.Background())
	if err != nil || len(gs) != 3 {
		t.Fatalf("AllGroups = %d, %v", len(gs), err)
	}
	// A taken address is ErrListen, so the CLI can call it a configuration problem.
	_, err = sandbox.Start(context.Background(), sandbox.EmbeddedOptions{Addr: strings.TrimPrefix(e.Server.URL, "http://")})
	if !errors.Is(err, sandbox.ErrListen) {
		t.Fatalf("second Start on the same address: %v", err)
	}
}
