package dpctest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// rangedGet reads as much of a ranged body as arrives and the error that ended
// it: DPC cuts a body short at end of file, which a client sees as
// io.ErrUnexpectedEOF.
func rangedGet(t *testing.T, u, token, rng string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Range", rng)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// The sandbox answers ranges as dpc-app does by default (DataResource
// buildRangedRequest): [S, E), "bytes S-E/(E-S)", Content-Length E-S even
// past the end of the file (the body is cut there), an open end is 1 MiB, and
// a start past the end is a 500, never 416.
func TestDPCRanges(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 4)
	f := c.wait(t, c.export(t, ro.groupID, "?_type=ExplanationOfBenefit")).Output[0]
	full := c.api(t, "GET", f.URL, nil, nil).body
	n := len(full)
	if n < 200 || n > 1<<20 {
		t.Fatalf("file of %d bytes: the test needs 200 B .. 1 MiB", n)
	}
	cases := []struct {
		rng      string
		start    int
		stop     int // requested end (exclusive)
		wantBody []byte
	}{
		{"bytes=10-20", 10, 20, full[10:20]},
		{"bytes=0-100", 0, 100, full[:100]},
		{"bytes=" + strconv.Itoa(n-50) + "-" + strconv.Itoa(n+1000), n - 50, n + 1000, full[n-50:]}, // cut at EOF
		{"bytes=5-", 5, 5 + 1<<20, full[5:]}, // open end = 1 MiB, cut at EOF
		{"bytes=" + strconv.Itoa(n) + "-", n, n + 1<<20, nil},
	}
	for _, tc := range cases {
		resp, body, err := rangedGet(t, f.URL, c.token, tc.rng)
		wantCR := "bytes " + strconv.Itoa(tc.start) + "-" + strconv.Itoa(tc.stop) + "/" + strconv.Itoa(tc.stop-tc.start)
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != wantCR ||
			resp.Header.Get("Content-Length") != strconv.Itoa(tc.stop-tc.start) || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: %d Content-Range %q Content-Length %q, want 206 %q %d", tc.rng, resp.StatusCode,
				resp.Header.Get("Content-Range"), resp.Header.Get("Content-Length"), wantCR, tc.stop-tc.start)
		}
		if !bytes.Equal(body, tc.wantBody) {
			t.Errorf("%s: %d bytes, want %d", tc.rng, len(body), len(tc.wantBody))
		}
		if cut := tc.stop > n; cut != errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: body error %v, want a cut body %v", tc.rng, err, cut)
		}
	}
	if resp, _, _ := rangedGet(t, f.URL, c.token, "bytes="+strconv.Itoa(n+1)+"-"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("start past the end: %d, want 500", resp.StatusCode)
	}
	for _, bad := range []string{"bytes=-5", "bytes=9-3", "items=0-4"} {
		if resp, _, _ := rangedGet(t, f.URL, c.token, bad); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("%s: %d, want 416", bad, resp.StatusCode)
		}
	}
}
