package runner_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

// An expired client token: DPC would issue access tokens and 401 every call; doctor reads
// the macaroon's expires caveat and fails with an auth error naming the token by id.
func TestDoctorExpiredClientToken(t *testing.T) {
	f := newFixture(t, 2)
	tok, _ := os.ReadFile(f.cfg.Credentials.ClientTokenFile)
	ct, err := auth.ParseClientToken(string(tok))
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return ct.Expires.Add(time.Hour) }
	checks, err := runner.Doctor(context.Background(), runner.Options{Config: f.cfg, Now: later})
	if !errors.Is(err, extract.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	for _, c := range checks {
		if c.Name == "client token" {
			if c.OK || !strings.Contains(c.Detail, ct.ID) || !strings.Contains(c.Detail, "expired") || strings.Contains(c.Detail, strings.TrimSpace(string(tok))) {
				t.Fatalf("client token check: %+v", c)
			}
			return
		}
	}
	t.Fatal("no client token check")
}

// A revoked client token: runner.New (the first stage of run) fails with ErrAuth before
// any export is kicked off.
func TestRunRevokedClientTokenFailsFast(t *testing.T) {
	f := newFixture(t, 2)
	c := f.sb.Client()
	if err := c.DeleteToken(context.Background(), f.sb.ClientTokenID); err != nil {
		t.Fatal(err)
	}
	_, err := runner.New(context.Background(), runner.Options{Config: f.cfg, Now: f.srv.Clock().Now})
	if !errors.Is(err, extract.ErrAuth) || !strings.Contains(err.Error(), f.sb.ClientTokenID) {
		t.Fatalf("runner.New = %v, want ErrAuth naming token %s", err, f.sb.ClientTokenID)
	}
	if n := f.srv.Requests("/api/v1/Group/"); n != 0 {
		t.Fatalf("%d Group requests (exports) with a revoked token", n)
	}
}
