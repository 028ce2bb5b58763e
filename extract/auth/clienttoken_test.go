package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract"
	"github.com/dpcetl/dpcetl/extract/auth"
	"github.com/dpcetl/dpcetl/extract/dpctest"
	"github.com/dpcetl/dpcetl/extract/internal/sandboxtest"
)

func TestParseClientToken(t *testing.T) {
	sb := sandboxtest.Start(t, 1)
	ct, err := auth.ParseClientToken(sb.Cred.ClientToken)
	if err != nil {
		t.Fatal(err)
	}
	if ct.OrganizationID != sb.OrgID || ct.ID == "" || ct.Expires.IsZero() || ct.Name() != ct.ID {
		t.Fatalf("parsed %+v", ct)
	}
	for _, bad := range []string{"", "not-a-token", "W3sidiI6Mi", sb.Cred.ClientToken + "x", "e30="} {
		_, err := auth.ParseClientToken(bad)
		if !errors.Is(err, auth.ErrMalformedClientToken) || !errors.Is(err, extract.ErrAuth) {
			t.Errorf("%q: err %v, want ErrMalformedClientToken (ErrAuth)", bad, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error repeats the token: %v", err)
		}
	}
}

// DPC answers a malformed client token at /Token/auth with a 500, which would look
// retryable forever: the token source refuses it as a credentials problem before asking.
func TestMalformedClientTokenIsAuthNotRetry(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, `{"code":500,"message":"There was an error processing your request."}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	sb := sandboxtest.Start(t, 1)
	c := sb.Cred
	c.BaseURL = srv.URL + "/api/v1"
	c.ClientToken = "this-is-not-a-macaroon"
	_, err := auth.NewTokenSource(c).Token(context.Background())
	if !errors.Is(err, extract.ErrAuth) || errors.Is(err, extract.ErrRetryable) {
		t.Fatalf("err %v: want ErrAuth, not retryable", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests for a token that cannot work", hits.Load())
	}
	// The real sandbox answers the same token with DPC's 500.
	c.BaseURL = sb.Cred.BaseURL
	if _, err := auth.NewTokenSource(c).Token(context.Background()); !errors.Is(err, auth.ErrMalformedClientToken) {
		t.Fatalf("sandbox: err %v", err)
	}
}

// An expired client token still gets an access token from DPC; the token source knows
// the expiry from the macaroon and fails at once, naming the token by id.
func TestExpiredClientTokenFailsFast(t *testing.T) {
	clock := &dpctest.Clock{}
	sb := sandboxtest.Start(t, 1, dpctest.WithClock(clock))
	ct, _ := auth.ParseClientToken(sb.Cred.ClientToken)
	clock.Advance(400 * 24 * time.Hour)
	ts := auth.NewTokenSource(sb.Cred, auth.WithClock(clock.Now))
	_, err := ts.Token(context.Background())
	if !errors.Is(err, auth.ErrClientTokenExpired) || !errors.Is(err, extract.ErrAuth) {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), ct.ID) || strings.Contains(err.Error(), sb.Cred.ClientToken) {
		t.Fatalf("error must name the token by id, never by value: %v", err)
	}
	if n := sb.Srv.Requests("/api/v1/Token/auth"); n != 0 {
		t.Fatalf("%d token requests for an expired client token", n)
	}
}
