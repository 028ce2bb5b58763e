package dpctest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpcetl/dpcetl/extract/dpctest"
)

func TestExportKickoffValidation(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 2)
	path := "/Group/" + ro.groupID + "/$export"
	future := url.QueryEscape(srv.Clock().Now().Add(time.Hour).Format(time.RFC3339))
	tests := []struct {
		name   string
		query  string
		hdr    map[string]string
		status int
	}{
		{"no Accept", "", map[string]string{"Accept": "", "Prefer": "respond-async"}, http.StatusUnsupportedMediaType},
		{"Accept json", "", map[string]string{"Accept": "application/json", "Prefer": "respond-async"}, http.StatusUnsupportedMediaType},
		{"no Prefer", "", nil, http.StatusBadRequest},
		{"Prefer other", "", map[string]string{"Prefer": "respond-sync"}, http.StatusBadRequest},
		{"bad _type", "?_type=Patient,Claim", map[string]string{"Prefer": "respond-async"}, http.StatusBadRequest},
		{"_since without offset", "?_since=2025-01-01T00:00:00", map[string]string{"Prefer": "respond-async"}, http.StatusBadRequest},
		{"_since in the future", "?_since=" + future, map[string]string{"Prefer": "respond-async"}, http.StatusBadRequest},
		{"bad _outputFormat", "?_outputFormat=text/csv", map[string]string{"Prefer": "respond-async"}, http.StatusBadRequest},
		{"unknown group", "", map[string]string{"Prefer": "respond-async"}, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := path
			if tc.name == "unknown group" {
				p = "/Group/6f1a4c8e-0000-4000-8000-000000000000/$export"
			}
			r := c.api(t, "GET", p+tc.query, nil, tc.hdr)
			mustStatus(t, r, tc.status)
			if r.json(t)["resourceType"] != "OperationOutcome" {
				t.Errorf("body %s", r.body)
			}
		})
	}
	for _, ok := range []string{"?_outputFormat=ndjson", "?_outputFormat=application/ndjson", "?_outputFormat=" + url.QueryEscape("application/fhir+ndjson"),
		"?_type=Coverage,Patient", "?_since=" + url.QueryEscape("2025-06-01T00:00:00+00:00"), "?unknownParam=1"} {
		c.export(t, ro.groupID, ok)
	}
	// Clients that percent-encode the $ reach the same operation.
	r := c.api(t, "GET", "/Group/"+ro.groupID+"/%24export", nil, map[string]string{"Prefer": "respond-async"})
	mustStatus(t, r, http.StatusAccepted)
}

func TestJobLifecycle(t *testing.T) {
	srv := newServer(t, dpctest.WithJobDuration(time.Hour))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 3)
	jobURL := c.export(t, ro.groupID, "?_type=Patient")
	// The job takes an hour on the server clock: it reports progress meanwhile.
	time.Sleep(100 * time.Millisecond)
	r := c.api(t, "GET", jobURL, nil, nil)
	mustStatus(t, r, http.StatusAccepted)
	if p := r.header.Get("X-Progress"); !strings.HasPrefix(p, "RUNNING: ") && !strings.HasPrefix(p, "QUEUED: ") {
		t.Fatalf("X-Progress %q", p)
	}
	if len(r.body) != 0 {
		t.Errorf("202 body must be empty: %s", r.body)
	}
	srv.Clock().Advance(time.Hour)
	c.token = c.accessToken(t)
	m := c.wait(t, jobURL)
	r = c.api(t, "GET", jobURL, nil, nil)
	exp, err := http.ParseTime(r.header.Get("Expires"))
	if err != nil || exp.Before(srv.Clock().Now().Add(23*time.Hour)) {
		t.Fatalf("Expires %q", r.header.Get("Expires"))
	}
	var raw map[string]any
	_ = json.Unmarshal(r.body, &raw)
	if _, ok := raw["extension"]; !ok {
		t.Errorf("manifest lacks the submit/complete time extension")
	}
	if !strings.HasSuffix(m.Request, "/$export?_type=Patient") {
		t.Errorf("request %q must keep the query", m.Request)
	}
	file := m.Output[0].URL
	mustStatus(t, c.api(t, "GET", file, nil, nil), http.StatusOK)
	other := onboard(t, srv)
	mustStatus(t, other.api(t, "GET", jobURL, nil, nil), http.StatusUnauthorized) // JobResource: "Invalid organization for job"
	mustStatus(t, other.api(t, "GET", file, nil, nil), http.StatusNotFound)

	srv.Clock().Advance(25 * time.Hour)
	c.token = c.accessToken(t)
	mustStatus(t, c.api(t, "GET", jobURL, nil, nil), http.StatusGone)
	mustStatus(t, c.api(t, "GET", file, nil, nil), http.StatusGone)
	mustStatus(t, c.api(t, "GET", srv.BaseURL()+"/Jobs/6f1a4c8e-0000-4000-8000-000000000000", nil, nil), http.StatusNotFound)

	// The next kick-off removes the expired job's files from disk; its URLs stay 410.
	jobDir := filepath.Join(srv.DataDir(), jobURL[strings.LastIndex(jobURL, "/")+1:])
	if _, err := os.Stat(jobDir); err != nil {
		t.Fatalf("expired job dir should still exist before pruning: %v", err)
	}
	c.export(t, ro.groupID, "?_type=Patient")
	if _, err := os.Stat(jobDir); !os.IsNotExist(err) {
		t.Fatalf("expired job dir not pruned: %v", err)
	}
	mustStatus(t, c.api(t, "GET", file, nil, nil), http.StatusGone)
}

// TestDeleteJob: DPC's JobResource has only GET, so DELETE is 405; WithJobDelete gives the
// bulk-data spec's cancel.
func TestDeleteJob(t *testing.T) {
	srv := newServer(t, dpctest.WithJobDuration(time.Hour))
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 2)
	jobURL := c.export(t, ro.groupID, "")
	r := c.api(t, "DELETE", jobURL, nil, nil)
	mustStatus(t, r, http.StatusMethodNotAllowed)
	if !strings.Contains(r.header.Get("Allow"), "GET") || r.json(t)["code"] != float64(405) {
		t.Errorf("405: Allow %q, body %s", r.header.Get("Allow"), r.body)
	}
	mustStatus(t, c.api(t, "GET", jobURL, nil, nil), http.StatusAccepted)

	srv2 := newServer(t, dpctest.WithJobDuration(time.Hour), dpctest.WithJobDelete())
	c2 := onboard(t, srv2)
	ro2 := c2.roster(t, 0, 0, 2)
	jobURL2 := c2.export(t, ro2.groupID, "")
	mustStatus(t, c2.api(t, "DELETE", jobURL2, nil, nil), http.StatusAccepted)
	mustStatus(t, c2.api(t, "GET", jobURL2, nil, nil), http.StatusNotFound)
}

// TestJobStatusAnswers: /Jobs wants Accept: application/json (406 otherwise), and its
// errors are JobResource's plain-text ones.
func TestJobStatusAnswers(t *testing.T) {
	srv := newServer(t, dpctest.WithJobDuration(time.Hour))
	c := onboard(t, srv)
	other := onboard(t, srv)
	ro := c.roster(t, 0, 0, 2)
	jobURL := c.export(t, ro.groupID, "")
	mustStatus(t, c.api(t, "GET", jobURL, nil, map[string]string{"Accept": "application/fhir+json"}), http.StatusNotAcceptable)
	mustStatus(t, c.api(t, "GET", jobURL, nil, map[string]string{"Accept": "*/*"}), http.StatusAccepted)
	r := other.api(t, "GET", jobURL, nil, nil)
	mustStatus(t, r, http.StatusUnauthorized)
	if string(r.body) != "Invalid organization for job" {
		t.Errorf("another org's job: %q", r.body)
	}
	r = c.api(t, "GET", srv.BaseURL()+"/Jobs/6f1a4c8e-0000-4000-8000-000000000000", nil, nil)
	mustStatus(t, r, http.StatusNotFound)
	if string(r.body) != "Could not find job" {
		t.Errorf("unknown job: %q", r.body)
	}
	mustStatus(t, c.api(t, "GET", srv.BaseURL()+"/Jobs/not-a-uuid", nil, nil), http.StatusInternalServerError)

	lenient := newServer(t, dpctest.WithJobDuration(time.Hour), dpctest.WithLenientMediaTypes())
	lc := onboard(t, lenient)
	lro := lc.roster(t, 0, 0, 2)
	mustStatus(t, lc.api(t, "GET", lc.export(t, lro.groupID, ""), nil, map[string]string{"Accept": "application/fhir+json"}), http.StatusAccepted)
}

func TestSinceFiltersByLastUpdated(t *testing.T) {
	srv := newServer(t)
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 6)
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	m := c.wait(t, c.export(t, ro.groupID, "?_since="+url.QueryEscape(since.Format(time.RFC3339))))
	tt, _ := time.Parse(time.RFC3339Nano, m.TransactionTime)
	g := srv.Generator()
	want, all := 0, 0
	for _, mbi := range ro.mbis {
		if suppressed(g, mbi) {
			continue
		}
		for _, typ := range []string{"Patient", "Coverage", "ExplanationOfBenefit"} {
			_, n := g.AppendNDJSON(nil, mbi, typ, since, tt)
			want += n
			_, n = g.AppendNDJSON(nil, mbi, typ, time.Time{}, tt)
			all += n
		}
	}
	got := 0
	for _, f := range m.Output {
		got += f.Count
		body := c.api(t, "GET", f.URL, nil, nil).body
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			var res struct {
				Meta struct{ LastUpdated time.Time } `json:"meta"`
			}
			if err := json.Unmarshal(line, &res); err != nil {
				t.Fatal(err)
			}
			if !res.Meta.LastUpdated.After(since) || res.Meta.LastUpdated.After(tt) {
				t.Fatalf("lastUpdated %s outside (%s, %s]", res.Meta.LastUpdated, since, tt)
			}
		}
	}
	if got != want || want == 0 || want == all {
		t.Fatalf("_since export has %d resources, want %d (of %d)", got, want, all)
	}
}

func TestDataEndpoint(t *testing.T) {
	for _, rfc := range []bool{false, true} {
		t.Run("rfc7233="+strconv.FormatBool(rfc), func(t *testing.T) {
			var opts []dpctest.Option
			if rfc {
				opts = append(opts, dpctest.WithRFC7233Ranges())
			}
			srv := newServer(t, opts...)
			c := onboard(t, srv)
			ro := c.roster(t, 0, 0, 4)
			m := c.wait(t, c.export(t, ro.groupID, "?_type=ExplanationOfBenefit"))
			f := m.Output[0]
			full := c.api(t, "GET", f.URL, nil, nil)
			mustStatus(t, full, http.StatusOK)
			h := full.header
			if h.Get("ETag") != f.checksum() || h.Get("Content-Type") != "application/ndjson" || h.Get("Accept-Ranges") != "bytes" {
				t.Fatalf("headers %v", h)
			}
			if ms, err := strconv.ParseInt(h.Get("Last-Modified"), 10, 64); err != nil || ms < 1e12 {
				t.Errorf("Last-Modified %q is not epoch milliseconds", h.Get("Last-Modified"))
			}
			mustStatus(t, c.api(t, "GET", f.URL, nil, map[string]string{"If-None-Match": f.checksum()}), http.StatusNotModified)
			mustStatus(t, c.api(t, "GET", f.URL, nil, map[string]string{"If-None-Match": `"` + f.checksum() + `"`}), http.StatusNotModified)
			mustStatus(t, c.api(t, "GET", f.URL, nil, map[string]string{"If-None-Match": "abc"}), http.StatusOK)
			head := c.api(t, "HEAD", f.URL, nil, nil)
			mustStatus(t, head, http.StatusOK)
			if head.header.Get("Content-Length") != strconv.Itoa(len(full.body)) || head.header.Get("ETag") == "" {
				t.Errorf("HEAD headers %v", head.header)
			}

			n := len(full.body)
			rng := c.api(t, "GET", f.URL, nil, map[string]string{"Range": "bytes=10-20", "Accept-Encoding": "gzip"})
			mustStatus(t, rng, http.StatusPartialContent)
			wantBody, wantCR := full.body[10:20], "bytes 10-20/10" // DPC: the range length after the slash
			if rfc {
				wantBody, wantCR = full.body[10:21], "bytes 10-20/"+strconv.Itoa(n)
			}
			if !bytes.Equal(rng.body, wantBody) || rng.header.Get("Content-Range") != wantCR || rng.header.Get("Content-Encoding") != "" {
				t.Errorf("range: %q %q %q", rng.body, rng.header.Get("Content-Range"), rng.header.Get("Content-Encoding"))
			}
			if rfc { // DPC's open ranges and ranges past the end: TestDPCRanges
				open := c.api(t, "GET", f.URL, nil, map[string]string{"Range": "bytes=5-"})
				mustStatus(t, open, http.StatusPartialContent)
				if !bytes.Equal(open.body, full.body[5:]) {
					t.Errorf("open range: %d bytes", len(open.body))
				}
				mustStatus(t, c.api(t, "GET", f.URL, nil, map[string]string{"Range": "bytes=" + strconv.Itoa(n) + "-"}), http.StatusRequestedRangeNotSatisfiable)
			}
			suffix := c.api(t, "GET", f.URL, nil, map[string]string{"Range": "bytes=-5"})
			if rfc {
				mustStatus(t, suffix, http.StatusPartialContent)
				if !bytes.Equal(suffix.body, full.body[n-5:]) {
					t.Errorf("suffix range %q", suffix.body)
				}
			} else {
				mustStatus(t, suffix, http.StatusRequestedRangeNotSatisfiable)
			}
			mustStatus(t, c.api(t, "GET", srv.BaseURL()+"/Data/nope.ndjson", nil, nil), http.StatusNotFound)
			mustStatus(t, do(t, "GET", f.URL, nil, nil), http.StatusUnauthorized)
			mustStatus(t, do(t, "GET", f.URL+"?token="+url.QueryEscape(c.token), nil, nil), http.StatusOK)
		})
	}
}

func TestFileRollAndBatchSize(t *testing.T) {
	// 250 patients in batches of 100: three batches; Patient files hold 100, 100, 50 (minus opted-out).
	srv := newServer(t, dpctest.WithFileResources(40), dpctest.WithSuppressedShare(0)) // file rolling needs full batches
	c := onboard(t, srv)
	ro := c.roster(t, 0, 0, 0)
	g := srv.Generator()
	var ps [][]byte
	for i := range 250 {
		ps = append(ps, patientJSON(g.MBI(i), c.orgID))
	}
	r := c.api(t, "POST", "/Patient/$submit", submitBody(ps...), nil)
	mustStatus(t, r, http.StatusOK)
	var b struct {
		Entry []struct {
			Resource struct{ ID string } `json:"resource"`
		} `json:"entry"`
	}
	_ = json.Unmarshal(r.body, &b)
	var ids []string
	for _, e := range b.Entry {
		ids = append(ids, e.Resource.ID)
	}
	mustStatus(t, c.api(t, "PUT", "/Group/"+ro.groupID, groupJSON(ro.npi, ids...), map[string]string{"X-Provenance": provenance(c.orgID, ro.practitionerID)}), http.StatusOK)
	m := c.wait(t, c.export(t, ro.groupID, "?_type=Patient"))
	batches := map[string][]int{}
	for _, f := range m.Output {
		name := f.URL[strings.LastIndex(f.URL, "/")+1:]
		batchID := name[:36]
		batches[batchID] = append(batches[batchID], f.Count)
		if f.Count > 40 {
			t.Errorf("%s has %d resources, limit 40", name, f.Count)
		}
	}
	if len(batches) != 3 {
		t.Fatalf("want 3 batches, got %d: %v", len(batches), batches)
	}
	for id, counts := range batches {
		if len(counts) < 2 {
			t.Errorf("batch %s: %v, want several files", id, counts)
		}
	}
}
