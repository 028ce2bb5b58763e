package dpctest_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// Every response's Date is the server Clock's time, including fault answers and
// refusals, so a client can see the skew that Clock().Advance makes.
func TestDateFromClock(t *testing.T) {
	srv := newServer(t, dpctest.WithTokenLifetime(time.Hour)) // the access token outlives the jump
	c := onboard(t, srv)
	srv.Clock().Advance(10 * time.Minute)
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Practitioner", Count: 1}}})
	tests := []struct {
		name   string
		r      func() response
		status int
	}{
		{"authenticated", func() response { return c.api(t, "GET", "/Organization", nil, nil) }, http.StatusOK},
		{"no bearer", func() response { return do(t, "GET", srv.BaseURL()+"/Organization", nil, nil) }, http.StatusUnauthorized},
		{"injected 503", func() response { return c.api(t, "GET", "/Practitioner", nil, nil) }, http.StatusServiceUnavailable},
		{"portal", func() response {
			return do(t, "POST", srv.URL+"/portal/Organization", []byte(`{"name":"Date Org","npi":"`+srv.Generator().NPI(7)+`"}`), nil)
		}, http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r()
			mustStatus(t, r, tc.status)
			d, err := http.ParseTime(r.header.Get("Date"))
			if err != nil {
				t.Fatalf("Date %q: %v", r.header.Get("Date"), err)
			}
			// Date has whole seconds: allow the truncation plus scheduling.
			if diff := srv.Clock().Now().Sub(d); diff < 0 || diff > 3*time.Second {
				t.Fatalf("Date %s is %s from the server clock (real time is %s away)", d, diff, time.Since(d))
			}
		})
	}
}

// WithJobRetryAfter puts Retry-After (whole seconds, rounded up) on 202 polls
// only; the completed manifest carries none.
func TestJobRetryAfter(t *testing.T) {
	srv := newServer(t, dpctest.WithJobRetryAfter(1500*time.Millisecond), dpctest.WithJobDuration(time.Hour),
		dpctest.WithTokenLifetime(2*time.Hour))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 1)
	job := c.export(t, ro.groupID, "")
	r := c.api(t, "GET", job, nil, nil)
	mustStatus(t, r, http.StatusAccepted)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Fatalf("202 Retry-After %q, want \"2\"", got)
	}
	srv.Clock().Advance(time.Hour)
	deadline := time.Now().Add(30 * time.Second)
	for r.status == http.StatusAccepted && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		r = c.api(t, "GET", job, nil, nil)
	}
	mustStatus(t, r, http.StatusOK)
	if got := r.header.Get("Retry-After"); got != "" {
		t.Fatalf("200 manifest has Retry-After %q", got)
	}
}

// getEnc fetches u with or without Accept-Encoding: gzip, undecoded by the transport.
func getEnc(t *testing.T, c *client, u string, gz bool) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || int64(len(b)) != resp.ContentLength {
		t.Fatalf("GET %s: %d, %d of %d bytes, %v", u, resp.StatusCode, len(b), resp.ContentLength, err)
	}
	if (resp.Header.Get("Content-Encoding") == "gzip") != gz {
		t.Fatalf("Content-Encoding %q with gzip=%v", resp.Header.Get("Content-Encoding"), gz)
	}
	return b
}

// The corrupt fault flips exactly one byte at the chosen offset (default the
// middle) of the body as sent: in the stored gzip stream, which then fails to
// decode, or in the decoded NDJSON. Length and headers stay; the next request
// (Count: 1) is clean.
func TestFaultCorrupt(t *testing.T) {
	srv, c, m := exportReady(t)
	u := m.Output[0].URL
	for _, gz := range []bool{true, false} {
		for _, after := range []int64{100, 0} {
			name := map[bool]string{true: "gzip", false: "decoded"}[gz] + map[bool]string{true: "/after=100", false: "/middle"}[after > 0]
			t.Run(name, func(t *testing.T) {
				srv.SetFaults(dpctest.Faults{})
				whole := getEnc(t, c, u, gz)
				srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultCorrupt, Path: "/Data/", Count: 1, AfterBytes: after}}})
				bad := getEnc(t, c, u, gz)
				if len(bad) != len(whole) {
					t.Fatalf("corrupt body %d bytes, want %d", len(bad), len(whole))
				}
				at := after
				if at == 0 {
					at = int64(len(whole)) / 2
				}
				for i := range whole {
					want := whole[i]
					if int64(i) == at {
						want ^= 0xFF
					}
					if bad[i] != want {
						t.Fatalf("byte %d: %#x, want %#x (flip only at %d)", i, bad[i], want, at)
					}
				}
				if gz {
					if zr, err := gzip.NewReader(bytes.NewReader(bad)); err == nil {
						if _, err := io.ReadAll(zr); err == nil {
							t.Fatal("corrupt gzip stream decoded without error")
						}
					}
				}
				if again := getEnc(t, c, u, gz); !bytes.Equal(again, whole) {
					t.Fatal("Count: 1 corrupted the next request too")
				}
			})
		}
	}
}

func TestParseFaultsCorrupt(t *testing.T) {
	f, err := dpctest.ParseFaults("corrupt@/Data/:count=1:after=4096")
	if err != nil {
		t.Fatal(err)
	}
	want := dpctest.Fault{Kind: dpctest.FaultCorrupt, Path: "/Data/", Count: 1, AfterBytes: 4096}
	if len(f.Rules) != 1 || f.Rules[0] != want {
		t.Fatalf("rules %+v, want %+v", f.Rules, want)
	}
	if _, err := dpctest.ParseFaults("corrupt@/Data/:after=x"); err == nil {
		t.Fatal("after=x parsed")
	}
}
