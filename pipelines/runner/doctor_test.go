package runner_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/pipelines/config"
	"github.com/dpcetl/dpcetl/pipelines/runner"
)

func TestDoctor(t *testing.T) {
	f := newFixture(t, 2)
	checks, err := runner.Doctor(context.Background(), runner.Options{Config: f.cfg})
	if err != nil {
		t.Fatalf("doctor on a good config: %v", err)
	}
	names := map[string]bool{}
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
		names[c.Name] = true
	}
	for _, n := range []string{"private key file", "key id", "client token", "reachability", "clock skew", "/Token/validate", "token exchange", "authenticated call"} {
		if !names[n] {
			t.Errorf("no %q check", n)
		}
	}

	t.Run("clock skew", func(t *testing.T) {
		// A proxy that reports a server clock 10 minutes ahead.
		target, _ := url.Parse(f.srv.URL)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ModifyResponse = func(r *http.Response) error {
			r.Header.Set("Date", time.Now().Add(10*time.Minute).UTC().Format(http.TimeFormat))
			return nil
		}
		proxy := httptest.NewServer(rp)
		defer proxy.Close()
		cfg := f.cfg
		cfg.API = proxy.URL + "/api/v1"
		checks, err := runner.Doctor(context.Background(), runner.Options{Config: cfg})
		if !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("err = %v", err)
		}
		found := false
		for _, c := range checks {
			if c.Name == "clock skew" {
				found = true
				if c.OK || !(strings.Contains(c.Detail, "10m") || strings.Contains(c.Detail, "9m5")) || !strings.Contains(c.Fix, "synchronise") {
					t.Fatalf("clock skew check: %+v", c)
				}
			}
		}
		if !found {
			t.Fatal("no clock skew check")
		}
	})

	t.Run("malformed client token", func(t *testing.T) {
		cfg := f.cfg
		cfg.Credentials.ClientTokenFile = f.dir + "/bad_token"
		os.WriteFile(cfg.Credentials.ClientTokenFile, []byte("not a token at all"), 0o600)
		checks, err := runner.Doctor(context.Background(), runner.Options{Config: cfg})
		if err == nil {
			t.Fatal("doctor accepted a malformed client token")
		}
		for _, c := range checks {
			if c.Name == "client token" && (c.OK || c.Fix == "") {
				t.Fatalf("client token check: %+v", c)
			}
		}
	})
}
