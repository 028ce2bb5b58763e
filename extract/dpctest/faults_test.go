package dpctest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

// exportReady gives a client with a finished export whose first EOB file is large enough to cut.
func exportReady(t *testing.T, opts ...dpctest.Option) (*dpctest.Server, *client, manifest) {
	t.Helper()
	srv := newServer(t, opts...)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 3)
	m := c.wait(t, c.export(t, ro.groupID, "?_type=ExplanationOfBenefit"))
	return srv, c, m
}

func rawGet(t *testing.T, c *client, u string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	// A fresh transport so a cut connection is not reused by other requests.
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaultStatusBursts(t *testing.T) {
	srv, c, m := exportReady(t)
	u := m.Output[0].URL
	tests := []struct {
		name       string
		fault      dpctest.Fault
		status     int
		retryAfter string
	}{
		{"429 with Retry-After", dpctest.Fault{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Count: 2, RetryAfter: 3 * time.Second}, 429, "3"},
		{"429 without Retry-After", dpctest.Fault{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Count: 2}, 429, ""},
		{"500 burst", dpctest.Fault{Kind: dpctest.FaultServerError, Path: "/Data/", Count: 2}, 500, ""},
		{"503 burst", dpctest.Fault{Kind: dpctest.FaultUnavailable, Path: "/Data/", Count: 2, RetryAfter: 1500 * time.Millisecond}, 503, "2"},
		{"expired file", dpctest.Fault{Kind: dpctest.FaultExpired, Path: "/Data/", Count: 2}, 410, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{tc.fault}})
			for i := range 2 {
				r := c.api(t, "GET", u, nil, nil)
				mustStatus(t, r, tc.status)
				if got := r.header.Get("Retry-After"); got != tc.retryAfter {
					t.Errorf("request %d: Retry-After %q, want %q", i, got, tc.retryAfter)
				}
			}
			// The burst is over: the third request gets the file.
			mustStatus(t, c.api(t, "GET", u, nil, nil), http.StatusOK)
			// Other endpoints were never affected.
			mustStatus(t, c.api(t, "GET", "/Organization", nil, nil), http.StatusOK)
		})
	}
}

func TestFaultTokenOutageAndSkip(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultUnavailable, Path: "/Token/auth", Skip: 1, Count: 3}}})
	mustStatus(t, c.auth(t, authForm(c.assertion(t, nil))), http.StatusOK) // skipped
	for range 3 {
		mustStatus(t, c.auth(t, authForm(c.assertion(t, nil))), http.StatusServiceUnavailable)
	}
	mustStatus(t, c.auth(t, authForm(c.assertion(t, nil))), http.StatusOK)
	if n := srv.Requests("/api/v1/Token/auth"); n != 6 { // onboarding + 5
		t.Errorf("Requests(/api/v1/Token/auth) = %d, want 6", n)
	}
}

func TestFaultResetAndTruncate(t *testing.T) {
	for _, kind := range []dpctest.FaultKind{dpctest.FaultReset, dpctest.FaultTruncate} {
		t.Run(string(kind), func(t *testing.T) {
			srv, c, m := exportReady(t)
			u := m.Output[0].URL
			_, whole, err := rawGet(t, c, u)
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: kind, Path: "/Data/", Count: 1, AfterBytes: 100}}})
			resp, got, err := rawGet(t, c, u)
			if err == nil {
				t.Fatalf("%s: read the whole body (%d bytes) without error", kind, len(got))
			}
			if resp.ContentLength != int64(len(whole)) || len(got) != 100 {
				t.Errorf("declared %d, got %d bytes before the cut (want 100)", resp.ContentLength, len(got))
			}
			if kind == dpctest.FaultTruncate && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("truncate: err %v, want unexpected EOF", err)
			}
			_, again, err := rawGet(t, c, u)
			if err != nil || len(again) != len(whole) {
				t.Fatalf("after the fault: %v, %d bytes", err, len(again))
			}
			// With no body to cut (a 202 poll) the connection dies before the response.
			srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: kind, Path: "/Organization", Count: 1}}})
			if _, _, err := rawGet(t, c, srv.BaseURL()+"/Organization"); err == nil {
				t.Errorf("default cut point: whole response read")
			}
		})
	}
}

func TestFaultSlowBody(t *testing.T) {
	srv, c, m := exportReady(t)
	u := m.Output[0].URL
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultSlowBody, Path: "/Data/", ChunkSize: 1 << 20, Delay: 50 * time.Millisecond}}})
	start := time.Now()
	_, b, err := rawGet(t, c, u)
	if err != nil || len(b) == 0 {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("slow body took %v", el)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != m.Output[0].checksum() {
		t.Errorf("slow body changed the bytes")
	}
}

func TestFaultBadChecksumAndJobFail(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 2)
	jobURL := c.export(t, ro.groupID, "")
	good := c.wait(t, jobURL)
	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultBadChecksum, Path: "/Jobs/", Count: 1}}})
	bad := c.wait(t, jobURL)
	if bad.Output[0].checksum() == good.Output[0].checksum() || len(bad.Output[0].checksum()) != 64 {
		t.Fatalf("checksum not corrupted: %s", bad.Output[0].checksum())
	}
	if bad.Output[1].checksum() != good.Output[1].checksum() {
		t.Fatalf("only the first output is corrupted")
	}
	body := c.api(t, "GET", good.Output[0].URL, nil, nil).body
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != good.Output[0].checksum() {
		t.Fatalf("file bytes changed")
	}

	srv.SetFaults(dpctest.Faults{Rules: []dpctest.Fault{{Kind: dpctest.FaultJobFailed, Path: "/Jobs/", Count: 1}}})
	job2 := c.export(t, ro.groupID, "")
	for range 2 {
		r := c.api(t, "GET", job2, nil, nil)
		mustStatus(t, r, http.StatusInternalServerError)
		if r.json(t)["resourceType"] != "OperationOutcome" {
			t.Errorf("failed job body %s", r.body)
		}
	}
}

func TestFaultProbabilityIsSeeded(t *testing.T) {
	pattern := func() string {
		srv := newServer(t, dpctest.WithSeed(7), dpctest.WithFaults(dpctest.Faults{Rules: []dpctest.Fault{
			{Kind: dpctest.FaultServerError, Path: "/Organization", Probability: 0.5}}}))
		c := onboard(t, srv)
		var sb strings.Builder
		for range 40 {
			if c.api(t, "GET", "/Organization", nil, nil).status == 500 {
				sb.WriteByte('x')
			} else {
				sb.WriteByte('.')
			}
		}
		return sb.String()
	}
	a, b := pattern(), pattern()
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n < 8 || n > 32 {
		t.Fatalf("p=0.5 gave %d/40 faults: %s", n, a)
	}
}

func TestParseFaults(t *testing.T) {
	f, err := dpctest.ParseFaults("429@/Data/:count=3:retry-after=2s; reset@/Data/:p=0.1:after=512;503@/Token/auth:skip=1:method=post;slow@/Data/:delay=50ms:chunk=1024")
	if err != nil {
		t.Fatal(err)
	}
	want := []dpctest.Fault{
		{Kind: dpctest.FaultTooManyRequests, Path: "/Data/", Count: 3, RetryAfter: 2 * time.Second},
		{Kind: dpctest.FaultReset, Path: "/Data/", Probability: 0.1, AfterBytes: 512},
		{Kind: dpctest.FaultUnavailable, Path: "/Token/auth", Skip: 1, Method: "POST"},
		{Kind: dpctest.FaultSlowBody, Path: "/Data/", Delay: 50 * time.Millisecond, ChunkSize: 1024},
	}
	if len(f.Rules) != len(want) {
		t.Fatalf("rules %+v", f.Rules)
	}
	for i := range want {
		if f.Rules[i] != want[i] {
			t.Errorf("rule %d: %+v, want %+v", i, f.Rules[i], want[i])
		}
	}
	for _, bad := range []string{"418@/Data/", "429@/Data/:count", "429@/Data/:p=2", "429@/Data/:color=red"} {
		if _, err := dpctest.ParseFaults(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
